"""The benchmark scripts run end to end on a tiny corpus and print the figures they promise."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_gensim_alternates_rounds_and_reports_medians(zipf_pairs, tmp_path, capsys):
    pytest.importorskip("gensim")
    bench = _load("compare_gensim")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("词1 词2\n词3 词4\n", encoding="utf-8")
    out = tmp_path / "rows.json"
    argv = ["--tokens", str(zipf_pairs / "tokens.txt"), "--aliases", str(aliases), "--epochs", "1",
            "--rounds", "2", "--models", "cbow", "--workers", "1", "--json", str(out)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "median of 2 alternating rounds" in printed and "| cbow | ours |" in printed
    gensim_row, ours_row = json.loads(out.read_text(encoding="utf-8"))
    for row in (gensim_row, ours_row):
        speeds = sorted(r["words_per_sec"] for r in row["rounds"])
        assert len(speeds) == 2 and row["words_per_sec"] == pytest.approx(sum(speeds) / 2)  # median of 2
    assert ours_row["rounds"][0]["mrr"] == ours_row["rounds"][1]["mrr"]  # one worker: deterministic


def test_median_row_keeps_missing_figures_missing():
    bench = _load("compare_gensim")
    row = bench.median_row([{"model": "cbow", "impl": "gensim", "seconds": None, "words_per_sec": 3.0,
                             "hit_at_10": None, "mrr": None}, {"model": "cbow", "impl": "gensim", "seconds": None,
                             "words_per_sec": 1.0, "hit_at_10": None, "mrr": None}])
    assert row["words_per_sec"] == 2.0 and row["mrr"] is None and row["seconds"] is None


def test_profile_step_prints_one_row_per_model_and_batch(zipf_pairs, capsys):
    bench = _load("profile_step")
    argv = ["--vocab", str(zipf_pairs / "vocab.tsv"), "--models", "cbow", "skipgram", "--batch", "64", "128",
            "--steps", "2"]
    assert bench.main(argv) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| cbow") or line.startswith("| skipgram")]
    assert len(rows) == 4
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[6]) > 0 and float(cells[7].replace(",", "")) > 0  # whole step ms, examples/s
