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

  function halves(text, rows, dim) {  // little-endian float16 rows from base64, as float32
    let bytes;
    if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(text);  // native, several times faster
    else {
      const raw = atob(text);
      bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    }
    const out = new Float32Array(rows * dim);
    const h = new Uint16Array(bytes.buffer, bytes.byteOffset, rows * dim);  // little-endian, as every browser's typed arrays
    for (let j = 0; j < out.length; j++) out[j] = HALF[h[j]];
    return out;
  }

  function decode(model) {
    const n = model.words.length, dim = model.dim, vecs = halves(model.vectors, n, dim);
    for (let r = 0; r < n; r++) {  // float16 rounding leaves rows slightly off unit length
      let norm = 0;
      for (let j = r * dim; j < (r + 1) * dim; j++) norm += vecs[j] * vecs[j];
      norm = Math.sqrt(norm) || 1;
      for (let j = r * dim; j < (r + 1) * dim; j++) vecs[j] /= norm;
    }
    const index = new Map(model.words.map((w, i) => [w, i]));
    const chars = model.chars ? {
      vecs: halves(model.chars.vectors, model.chars.keys.length, dim),  // raw rows: a composed vector is their mean
      index: new Map(model.chars.keys.map((c, i) => [c, i])),
    } : null;
    return { ...model, vecs, index, chars };
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

  function unit(v) {
    let norm = 0;
    for (let j = 0; j < v.length; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < v.length; j++) v[j] /= norm;
    return v;
  }

  // A word's unit vector: its row, or (with character vectors) the mean of its characters' rows, as
  // w2v's KeyedVectors composes it (each occurrence counts, characters without a vector skipped).
  // null when it has neither.
  function vectorOf(model, word) {
    const i = model.index.get(word);
    if (i !== undefined) return { vec: row(model, i), row: i, composed: false };
    if (!model.chars) return null;
    const chars = Array.from(word), sum = new Float32Array(model.dim);
    let known = 0;
    for (const c of chars) {
      const r = model.chars.index.get(c);
      if (r === undefined) continue;
      known++;
      for (let j = 0, o = r * model.dim; j < model.dim; j++) sum[j] += model.chars.vecs[o + j];
    }
    return known ? { vec: unit(sum), row: -1, composed: true, known, total: chars.length } : null;
  }

  function combine(model, positive, negative) {
    // gensim's most_similar: the mean of the unit vectors (negatives subtracted), made unit again.
    const target = new Float32Array(model.dim);
    for (const [words, sign] of [[positive, 1], [negative, -1]]) {
      for (const w of words) { const v = vectorOf(model, w).vec; for (let j = 0; j < model.dim; j++) target[j] += sign * v[j]; }
    }
    return unit(target);
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
      const v = vectorOf(m, word);
      if (!v) {
        const near = completions(word.slice(0, 1), 5).filter((w) => m.index.has(w));
        div.appendChild(el("p", `“${word}” is not among the ${fmtInt.format(m.words.length)} words of this model.`, { class: "note" }));
        if (near.length) { const p = el("p", "Try: ", { class: "note" }); near.forEach((w) => { p.appendChild(wordButton(w)); p.appendChild(document.createTextNode(" ")); }); div.appendChild(p); }
        highlights.push(null);
      } else {
        const found = topK(m, v.vec, k(), v.composed ? new Set() : new Set([v.row]));
        if (v.composed) {
          const p = el("p", null, { class: "note" });
          p.appendChild(el("span", "composed", { class: "badge" }));
          p.appendChild(document.createTextNode(` “${word}” is not in the vocabulary; vector composed from its characters (${v.known} of ${v.total} known).`));
          div.appendChild(p);
        } else div.appendChild(el("p", `frequency ${fmtInt.format(m.counts[v.row])}`, { class: "note" }));
        div.appendChild(resultTable(m, found));
        highlights.push({ word, vec: v.vec, row: v.row, composed: v.composed, neighbours: found.map(([r]) => r) });
      }
      out.appendChild(div);
    }
    MAPS.forEach((map, n) => map.setHighlight(highlights[n]));
    if (decodeURIComponent(location.hash.slice(1)) !== word) history.replaceState(null, "", "#" + encodeURIComponent(word));
  }

  function analogy(a, b, c) {
    const out = $("analogy");
    out.replaceChildren();
    $("analogy-message").textContent = "";
    if (!a || !b || !c) { $("analogy-message").textContent = "Give three words: a − b + c."; return; }
    for (const m of MODELS) {
      const div = column(m, "analogy");
      const missing = [a, b, c].filter((w) => !vectorOf(m, w));
      const composed = [a, b, c].filter((w) => !m.index.has(w) && !missing.includes(w));
      if (missing.length) div.appendChild(el("p", `Not in this model: ${missing.join("、")}`, { class: "note" }));
      else {
        if (composed.length) div.appendChild(el("p", `Composed from their characters: ${composed.join("、")}`, { class: "note" }));
        const exclude = new Set([a, b, c].filter((w) => m.index.has(w)).map((w) => m.index.get(w)));
        div.appendChild(resultTable(m, topK(m, combine(m, [a, c], [b]), k(), exclude)));
      }
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
  const FONT = "12px system-ui, sans-serif", BOLD = "bold 13px system-ui, sans-serif";
  // Where a label may go, as the offset of its text's left end and baseline from its point: right,
  // right below, left, left below, above, below. The first that overlaps no label drawn is taken.
  const SPOTS = [[5, -4], [5, 13], [-5, -4, true], [-5, 13, true], [0, -9, "mid"], [0, 20, "mid"]];

  function labelMode() { return $("labels").value; }

  function MapView(model) {
    const box = el("div", null, { class: "map", id: `map-${model.name}` });
    box.appendChild(el("h3", model.label));
    const legend = el("div", null, { class: "legend" });
    const shown = new Set(model.map.group.concat(model.map.composed.group).filter((g) => g >= 0));
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
    const map = model.map;
    const base = map.index.map((i, n) => ({ i, word: model.words[i], g: map.group[n], x: map.x[n], y: map.y[n] }));
    // alias-group names outside the vocabulary, placed by their composed vectors
    map.composed.words.forEach((word, n) => base.push({ i: -1, word, g: map.composed.group[n], x: map.composed.x[n], y: map.composed.y[n], composed: true }));
    const onMap = new Map(base.filter((p) => p.i >= 0).map((p) => [p.i, p]));
    let pts = base, bounds = boundsOf(base), labels = [];
    const view = { zoom: 1, dx: 0, dy: 0 };
    const self = { model, canvas, highlight: null, draw, screenPoint, setHighlight, labels: () => labels, marks };

    function boundsOf(points) {
      const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
      return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
    }
    function project(vec) {  // the map's PCA, as explorer.py computed it
      const { mean, axes } = map.pca, at = [0, 0];
      for (let a = 0; a < 2; a++) for (let j = 0; j < vec.length; j++) at[a] += (vec[j] - mean[j]) * axes[a][j];
      return at;
    }
    // A query and its neighbours join the map when they are not on it: projected the same way.
    function setHighlight(hl) {
      self.highlight = hl;
      const extra = [];
      if (hl) {
        if (!base.some((p) => p.word === hl.word)) {
          const [x, y] = project(hl.vec);
          extra.push({ i: hl.row, word: hl.word, g: -1, x, y, composed: hl.composed, added: true });
        }
        for (const r of hl.neighbours) {
          if (onMap.has(r)) continue;
          const [x, y] = project(row(model, r));
          extra.push({ i: r, word: model.words[r], g: -1, x, y, added: true });
        }
      }
      pts = base.concat(extra);
      bounds = boundsOf(pts);
      draw();
    }
    function role(p) {  // "query", "neighbour" or null
      const hl = self.highlight;
      if (!hl) return null;
      if (p.word === hl.word && (p.i === hl.row || p.composed)) return "query";
      return p.i >= 0 && hl.neighbours.includes(p.i) ? "neighbour" : null;
    }
    function marks() {
      return { query: pts.filter((p) => role(p) === "query").map((p) => p.word),
               neighbours: pts.filter((p) => role(p) === "neighbour").map((p) => p.word),
               added: pts.filter((p) => p.added).map((p) => p.word) };
    }

    function fit() {  // data -> CSS pixels at zoom 1: fit the bounds with a margin, y up
      const w = canvas.clientWidth, h = canvas.clientHeight, pad = 24;
      const s = Math.min((w - 2 * pad) / ((bounds.x1 - bounds.x0) || 1), (h - 2 * pad) / ((bounds.y1 - bounds.y0) || 1));
      return { s, cx: w / 2 - s * (bounds.x0 + bounds.x1) / 2, cy: h / 2 + s * (bounds.y0 + bounds.y1) / 2 };
    }
    function toScreen(p, b) {
      return { x: (b.cx + b.s * p.x) * view.zoom + view.dx, y: (b.cy - b.s * p.y) * view.zoom + view.dy };
    }
    function screenPoint(word) {
      const p = pts.find((q) => q.word === word);
      if (!p) return null;
      const at = toScreen(p, fit()), rect = canvas.getBoundingClientRect();
      return { x: rect.left + at.x, y: rect.top + at.y };
    }
    function colourOf(p, r) { return p.g >= 0 ? COLOURS[p.g % COLOURS.length] : r ? "#333" : "#9a9a9a"; }

    function draw() {
      const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
      if (canvas.width !== Math.round(w * ratio)) { canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio); }
      const ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const b = fit(), visible = [];
      for (const p of pts) {
        const at = toScreen(p, b);
        if (at.x < -20 || at.y < -20 || at.x > w + 20 || at.y > h + 20) continue;
        visible.push({ p, at, role: role(p) });
      }
      for (const pass of [0, 1]) {  // plain words first, alias-group words and highlights on top
        for (const { p, at, role: r } of visible) {
          if ((p.g >= 0 || r || p.composed ? 1 : 0) !== pass) continue;
          ctx.fillStyle = ctx.strokeStyle = colourOf(p, r);
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.arc(at.x, at.y, pass ? 4 : 2.5, 0, 2 * Math.PI);
          if (p.composed) ctx.stroke(); else ctx.fill();  // a composed vector: a hollow point
          if (r) {  // a ring: red for the query, black for its neighbours
            ctx.strokeStyle = r === "query" ? "#d00" : "#111";
            ctx.lineWidth = r === "query" ? 2.5 : 1.5;
            ctx.beginPath();
            ctx.arc(at.x, at.y, 7, 0, 2 * Math.PI);
            ctx.stroke();
          }
        }
      }
      labels = placeLabels(ctx, visible);
      for (const l of labels) {
        ctx.font = l.font;
        ctx.lineWidth = 3;
        ctx.strokeStyle = "rgba(255,255,255,0.85)";  // a halo keeps a label legible over points
        ctx.strokeText(l.word, l.tx, l.ty);
        ctx.fillStyle = l.colour;
        ctx.fillText(l.word, l.tx, l.ty);
      }
    }
    // Labels by priority: the query and its neighbours always; then, unless only those are asked
    // for, the alias-group words and the most frequent words (20 without a query, none with one,
    // more as you zoom in), each only where it keeps clear of the labels placed and of the ringed
    // points. "all" labels every point, overlaps and all.
    function placeLabels(ctx, visible) {
      const mode = labelMode(), rank = { query: 0, neighbour: 1 }, grouped = (p) => p.g >= 0 || p.composed;
      const frequent = (self.highlight ? 0 : 20) + 30 * (view.zoom * view.zoom - 1);
      const order = visible.filter(({ p, role: r }) => r || mode === "all" || (mode === "auto" && (grouped(p) || p.i < frequent)))
        .sort((u, v) => (rank[u.role] ?? 2) - (rank[v.role] ?? 2) || grouped(v.p) - grouped(u.p) || u.p.i - v.p.i);
      const rings = visible.filter(({ role: r }) => r).map(({ at }) => ({ x: at.x - 8, y: at.y - 8, w: 16, h: 16 }));
      const placed = [], clear = (a, b, gap) => a.x >= b.x + b.w + gap || b.x >= a.x + a.w + gap || a.y >= b.y + b.h + gap || b.y >= a.y + a.h + gap;
      for (const { p, at, role: r } of order) {
        const font = r === "query" ? BOLD : FONT;
        ctx.font = font;
        const w = ctx.measureText(p.word).width;
        const boxes = (mode === "all" ? SPOTS.slice(0, 1) : SPOTS).map(([dx, dy, side]) => {
          const tx = at.x + (side === true ? dx - w : side === "mid" ? -w / 2 : dx), ty = at.y + dy;
          return { x: tx - 1, y: ty - 11, w: w + 2, h: 14, tx, ty };
        });
        // the query's and neighbours' labels only avoid each other; the others keep a gap and avoid the rings too
        const fits = (box) => placed.every((q) => clear(q, box, r ? 0 : 3)) && (r || rings.every((q) => clear(q, box, 0)));
        let spot = mode === "all" ? boxes[0] : boxes.find(fits);
        if (!spot && r) spot = boxes[0];  // the query and its neighbours are labelled however crowded
        if (spot) placed.push({ ...spot, word: p.word, font, colour: r === "query" ? "#b00" : r ? "#111" : p.g >= 0 ? COLOURS[p.g % COLOURS.length] : "#555" });
      }
      return placed;
    }
    function nearest(event) {
      const rect = canvas.getBoundingClientRect(), mx = event.clientX - rect.left, my = event.clientY - rect.top, b = fit();
      let best = null, bestD = 64;  // within 8 px
      for (const p of pts) { const at = toScreen(p, b), d = (at.x - mx) ** 2 + (at.y - my) ** 2; if (d < bestD) { best = p; bestD = d; } }
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
      if (p) { tip.textContent = `${p.word} · ${p.i >= 0 ? fmtInt.format(model.counts[p.i]) : "composed"}`; tip.style.left = `${event.clientX + 12}px`; tip.style.top = `${event.clientY + 12}px`; }
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
  const composable = MODELS.filter((m) => m.chars).map((m) => m.label);
  $("summary").textContent = `${parts.join("; ")}. Map: the ${fmtInt.format(map.frequent)} most frequent words` +
    (map.index.length > map.frequent ? ` and ${fmtInt.format(map.index.length - map.frequent)} more alias-group words` : "") +
    "; a query's neighbours join it." +
    (composable.length ? ` ${composable.join(", ")}: words outside the vocabulary are composed from their characters.` : "");
  $("labels").addEventListener("change", () => MAPS.forEach((m) => m.draw()));
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
    labels: (model) => MAPS[model].labels().map(({ word, x, y, w, h }) => ({ word, x, y, w, h })),
    marks: (model) => MAPS[model].marks(),
  };
  document.body.dataset.ready = "true";
})();
