"use strict";
// The vector explorer (see w2v/report/explorer.py). Words are data: they reach the page only through
// textContent and canvas fillText, never as markup.
(function () {
  const started = performance.now();
  const DATA = JSON.parse(document.getElementById("w2v-data").textContent);
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                   "#7f7f7f", "#bcbd22", "#17becf"];
  const $ = (id) => document.getElementById(id);
  const fmtInt = new Intl.NumberFormat("en-US");

  function el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  // ---------------------------------------------------------------- data: float16 -> unit float32
  const HALF = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 31, frac = h & 1023;
    HALF[h] = exp === 0 ? sign * frac * 2 ** -24
      : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }

  function decode(model) {
    let bytes;
    if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(model.vectors);  // native, several times faster
    else {
      const raw = atob(model.vectors);
      bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    }
    const n = model.words.length, dim = model.dim, vecs = new Float32Array(n * dim);
    const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n * dim);  // little-endian, as every browser's typed arrays
    for (let r = 0; r < n; r++) {
      let norm = 0;
      for (let j = 0; j < dim; j++) {
        const v = HALF[halves[r * dim + j]];
        vecs[r * dim + j] = v;
        norm += v * v;
      }
      norm = Math.sqrt(norm) || 1;  // float16 rounding leaves rows slightly off unit length
      for (let j = 0; j < dim; j++) vecs[r * dim + j] /= norm;
    }
    const index = new Map(model.words.map((w, i) => [w, i]));
    return { ...model, vecs, index };
  }

  const MODELS = DATA.models.map(decode);
  const VOCAB = [];  // every word once, most frequent first, for completion
  const COUNT = new Map();
  for (const m of MODELS) m.words.forEach((w, i) => { if (!COUNT.has(w)) { COUNT.set(w, m.counts[i]); VOCAB.push(w); } });
  VOCAB.sort((a, b) => COUNT.get(b) - COUNT.get(a));

  // ---------------------------------------------------------------- queries
  function topK(model, target, k, exclude) {
    const { vecs, dim } = model, n = model.words.length, best = [];
    for (let r = 0; r < n; r++) {
      if (exclude.has(r)) continue;
      let s = 0;
      for (let j = 0, o = r * dim; j < dim; j++) s += vecs[o + j] * target[j];
      if (best.length < k || s > best[best.length - 1][1]) {
        let p = best.length < k ? best.length : best.length - 1;
        while (p > 0 && best[p - 1][1] < s) p--;
        best.splice(p, 0, [r, s]);
        if (best.length > k) best.pop();
      }
    }
    return best;
  }

  function row(model, i) { return model.vecs.subarray(i * model.dim, (i + 1) * model.dim); }

  function combine(model, positive, negative) {
    // gensim's most_similar: the mean of the unit vectors (negatives subtracted), made unit again.
    const target = new Float32Array(model.dim);
    for (const [words, sign] of [[positive, 1], [negative, -1]]) {
      for (const w of words) { const v = row(model, model.index.get(w)); for (let j = 0; j < model.dim; j++) target[j] += sign * v[j]; }
    }
    let norm = 0;
    for (let j = 0; j < model.dim; j++) norm += target[j] * target[j];
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < model.dim; j++) target[j] /= norm;
    return target;
  }

  function completions(text, limit) {
    if (!text) return [];
    const starts = [], contains = [];
    for (const w of VOCAB) {
      if (w.startsWith(text)) { if (starts.length < limit) starts.push(w); } else if (contains.length < limit && w.includes(text)) contains.push(w);
      if (starts.length >= limit) break;
    }
    return starts.concat(contains).slice(0, limit);
  }

  function wordButton(word) {
    const b = el("button", word, { type: "button", class: "word" });
    b.addEventListener("click", () => query(word));
    return b;
  }

  function resultTable(model, found) {
    const table = el("table");
    const head = table.createTHead().insertRow();
    for (const [text, cls] of [["#", "num"], ["word", ""], ["cosine", "num"], ["frequency", "num"]]) head.appendChild(el("th", text, cls ? { class: cls } : {}));
    const body = table.createTBody();
    found.forEach(([i, score], rank) => {
      const tr = body.insertRow();
      tr.appendChild(el("td", rank + 1, { class: "num" }));
      const cell = el("td"); cell.appendChild(wordButton(model.words[i])); tr.appendChild(cell);
      const cos = el("td", null, { class: "num" });
      cos.appendChild(el("span", null, { class: "bar", style: `width:${Math.max(0, score) * 4}em` }));
      cos.appendChild(document.createTextNode(score.toFixed(3)));
      tr.appendChild(cos);
      tr.appendChild(el("td", fmtInt.format(model.counts[i]), { class: "num" }));
    });
    return table;
  }

  function column(model, id) {
    const div = el("div", null, { id: `${id}-${model.name}`, class: "model" });
    div.appendChild(el("h3", model.label));
    return div;
  }

  function k() { return Math.min(100, Math.max(1, parseInt($("topk").value, 10) || DATA.topn)); }

  function query(word) {
    word = word.trim();
    $("query").value = word;
    hideCompletions();
    const out = $("neighbours");
    out.replaceChildren();
    $("message").textContent = "";
    if (!word) return;
    const highlights = [];
    for (const m of MODELS) {
      const div = column(m, "neighbours");
      const i = m.index.get(word);
      if (i === undefined) {
        const near = completions(word.slice(0, 1), 5).filter((w) => m.index.has(w));
        div.appendChild(el("p", `“${word}” is not among the ${fmtInt.format(m.words.length)} words of this model.`, { class: "note" }));
        if (near.length) { const p = el("p", "Try: ", { class: "note" }); near.forEach((w) => { p.appendChild(wordButton(w)); p.appendChild(document.createTextNode(" ")); }); div.appendChild(p); }
        highlights.push(null);
      } else {
        const found = topK(m, row(m, i), k(), new Set([i]));
        div.appendChild(el("p", `frequency ${fmtInt.format(m.counts[i])}`, { class: "note" }));
        div.appendChild(resultTable(m, found));
        highlights.push({ query: i, neighbours: new Set(found.map(([r]) => r)) });
      }
      out.appendChild(div);
    }
    MAPS.forEach((map, n) => { map.highlight = highlights[n]; map.draw(); });
    if (decodeURIComponent(location.hash.slice(1)) !== word) history.replaceState(null, "", "#" + encodeURIComponent(word));
  }

  function analogy(a, b, c) {
    const out = $("analogy");
    out.replaceChildren();
    $("analogy-message").textContent = "";
    if (!a || !b || !c) { $("analogy-message").textContent = "Give three words: a − b + c."; return; }
    for (const m of MODELS) {
      const div = column(m, "analogy");
      const missing = [a, b, c].filter((w) => !m.index.has(w));
      if (missing.length) div.appendChild(el("p", `Not in this model: ${missing.join("、")}`, { class: "note" }));
      else div.appendChild(resultTable(m, topK(m, combine(m, [a, c], [b]), k(), new Set([a, b, c].map((w) => m.index.get(w))))));
      out.appendChild(div);
    }
  }

  // ---------------------------------------------------------------- completion box
  let selected = -1;
  function hideCompletions() { $("completions").hidden = true; $("query").setAttribute("aria-expanded", "false"); selected = -1; }
  function showCompletions() {
    const list = $("completions"), words = completions($("query").value.trim(), 12);
    list.replaceChildren();
    selected = -1;
    words.forEach((w, n) => {
      const li = el("li", null, { role: "option", id: `completion-${n}` });
      li.appendChild(el("span", w, { class: "completion-word" }));
      li.appendChild(el("span", fmtInt.format(COUNT.get(w)), { class: "count" }));
      li.addEventListener("mousedown", (event) => { event.preventDefault(); query(w); });
      list.appendChild(li);
    });
    list.hidden = words.length === 0;
    $("query").setAttribute("aria-expanded", String(!list.hidden));
  }
  $("query").addEventListener("input", showCompletions);
  $("query").addEventListener("blur", hideCompletions);
  $("query").addEventListener("keydown", (event) => {
    const items = $("completions").querySelectorAll("li");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!items.length) return;
      event.preventDefault();
      selected = (selected + (event.key === "ArrowDown" ? 1 : items.length - 1 + (selected < 0 ? 1 : 0))) % items.length;
      items.forEach((li, n) => li.setAttribute("aria-selected", String(n === selected)));
    } else if (event.key === "Enter" && selected >= 0 && !$("completions").hidden) {
      event.preventDefault();
      query(items[selected].querySelector(".completion-word").textContent);
    } else if (event.key === "Escape") hideCompletions();
  });
  $("search-form").addEventListener("submit", (event) => { event.preventDefault(); query($("query").value); });
  $("analogy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    analogy(...["a", "b", "c"].map((x) => $(`analogy-${x}`).value.trim()));
  });

  // ---------------------------------------------------------------- maps
  const MAPS = MODELS.map((m) => new MapView(m));

  function MapView(model) {
    const box = el("div", null, { class: "map", id: `map-${model.name}` });
    box.appendChild(el("h3", model.label));
    const legend = el("div", null, { class: "legend" });
    const shown = new Set(model.map.group.filter((g) => g >= 0));
    DATA.groups.forEach((group, g) => {
      if (!shown.has(g)) return;
      const item = el("span");
      item.appendChild(el("span", null, { class: "swatch", style: `background:${COLOURS[g % COLOURS.length]}` }));
      item.appendChild(document.createTextNode(group[0]));
      legend.appendChild(item);
    });
    box.appendChild(legend);
    const canvas = el("canvas");
    box.appendChild(canvas);
    $("maps").appendChild(box);
    const pts = model.map.index.map((i, n) => ({ i, word: model.words[i], g: model.map.group[n], x: model.map.x[n], y: model.map.y[n] }));
    const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
    const bounds = { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
    const view = { zoom: 1, dx: 0, dy: 0 };
    const self = { model, canvas, highlight: null, draw, screenPoint };

    function base() {  // data -> CSS pixels at zoom 1: fit the bounds with a margin, y up
      const w = canvas.clientWidth, h = canvas.clientHeight, pad = 24;
      const s = Math.min((w - 2 * pad) / ((bounds.x1 - bounds.x0) || 1), (h - 2 * pad) / ((bounds.y1 - bounds.y0) || 1));
      return { s, cx: w / 2 - s * (bounds.x0 + bounds.x1) / 2, cy: h / 2 + s * (bounds.y0 + bounds.y1) / 2 };
    }
    function toScreen(p) {
      const b = base();
      return { x: (b.cx + b.s * p.x) * view.zoom + view.dx, y: (b.cy - b.s * p.y) * view.zoom + view.dy };
    }
    function screenPoint(word) {
      const p = pts.find((q) => q.word === word);
      if (!p) return null;
      const at = toScreen(p), rect = canvas.getBoundingClientRect();
      return { x: rect.left + at.x, y: rect.top + at.y };
    }
    function draw() {
      const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ctx.font = "12px system-ui, sans-serif";
      const hl = self.highlight, labelRank = 30 * view.zoom * view.zoom;
      for (const pass of [0, 1]) {  // plain words first, alias-group words and highlights on top
        for (const p of pts) {
          const marked = hl && (p.i === hl.query || hl.neighbours.has(p.i));
          if ((p.g >= 0 || marked ? 1 : 0) !== pass) continue;
          const at = toScreen(p);
          if (at.x < -20 || at.y < -20 || at.x > w + 20 || at.y > h + 20) continue;
          const colour = p.g >= 0 ? COLOURS[p.g % COLOURS.length] : marked ? "#333" : "#9a9a9a";
          ctx.fillStyle = colour;
          ctx.beginPath();
          ctx.arc(at.x, at.y, pass ? 4 : 2.5, 0, 2 * Math.PI);
          ctx.fill();
          if (marked) {  // a ring: red for the query, black for its neighbours
            ctx.strokeStyle = p.i === hl.query ? "#d00" : "#111";
            ctx.lineWidth = p.i === hl.query ? 2.5 : 1.5;
            ctx.beginPath();
            ctx.arc(at.x, at.y, 7, 0, 2 * Math.PI);
            ctx.stroke();
          }
          if (pass || p.i < labelRank) { ctx.fillStyle = pass ? colour : "#555"; ctx.fillText(p.word, at.x + 5, at.y - 4); }
        }
      }
    }
    function nearest(event) {
      const rect = canvas.getBoundingClientRect(), mx = event.clientX - rect.left, my = event.clientY - rect.top;
      let best = null, bestD = 64;  // within 8 px
      for (const p of pts) { const at = toScreen(p), d = (at.x - mx) ** 2 + (at.y - my) ** 2; if (d < bestD) { best = p; bestD = d; } }
      return best;
    }
    let drag = null;
    canvas.addEventListener("pointerdown", (event) => { drag = { x: event.clientX, y: event.clientY, moved: false }; canvas.setPointerCapture(event.pointerId); });
    canvas.addEventListener("pointermove", (event) => {
      const tip = $("tooltip");
      if (drag) {
        const ddx = event.clientX - drag.x, ddy = event.clientY - drag.y;
        if (Math.abs(ddx) + Math.abs(ddy) > 2) drag.moved = true;
        if (drag.moved) { view.dx += ddx; view.dy += ddy; drag.x = event.clientX; drag.y = event.clientY; draw(); tip.hidden = true; return; }
      }
      const p = nearest(event);
      tip.hidden = !p;
      if (p) { tip.textContent = `${p.word} · ${fmtInt.format(model.counts[p.i])}`; tip.style.left = `${event.clientX + 12}px`; tip.style.top = `${event.clientY + 12}px`; }
    });
    canvas.addEventListener("pointerup", (event) => {
      const click = drag && !drag.moved;
      drag = null;
      const p = click ? nearest(event) : null;
      if (p) query(p.word);
    });
    canvas.addEventListener("pointerleave", () => { $("tooltip").hidden = true; });
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect(), mx = event.clientX - rect.left, my = event.clientY - rect.top;
      const f = Math.exp(-event.deltaY * 0.0015), zoom = Math.min(200, Math.max(0.5, view.zoom * f)), g = zoom / view.zoom;
      view.dx = mx - (mx - view.dx) * g;
      view.dy = my - (my - view.dy) * g;
      view.zoom = zoom;
      draw();
    }, { passive: false });
    canvas.addEventListener("dblclick", () => { view.zoom = 1; view.dx = 0; view.dy = 0; draw(); });
    return self;
  }

  // ---------------------------------------------------------------- start
  $("title").textContent = `Word vectors of ${DATA.corpus}`;
  $("topk").value = DATA.topn;
  const parts = MODELS.map((m) => `${m.label}: ${fmtInt.format(m.words.length)} words × ${m.dim}` +
    (m.total_words > m.words.length ? ` (the most frequent of ${fmtInt.format(m.total_words)})` : ""));
  const map = MODELS.length ? MODELS[0].map : { index: [], frequent: 0 };
  $("summary").textContent = `${parts.join("; ")}. Map: the ${fmtInt.format(map.frequent)} most frequent words` +
    (map.index.length > map.frequent ? ` and ${fmtInt.format(map.index.length - map.frequent)} more alias-group words.` : ".");
  window.addEventListener("resize", () => MAPS.forEach((m) => m.draw()));
  MAPS.forEach((m) => m.draw());
  const initial = decodeURIComponent(location.hash.slice(1));
  if (initial) query(initial);
  window.w2vExplorer = {
    loadMs: performance.now() - started,  // this script's own work: decoding, indexing, first maps
    readyMs: performance.now(),  // since navigation started: when the page answers input
    query,
    analogy,
    screenPoint: (model, word) => MAPS[model].screenPoint(word),
  };
  document.body.dataset.ready = "true";
})();
