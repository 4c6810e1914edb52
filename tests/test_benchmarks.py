"""The benchmark scripts run end to end on a tiny corpus and print the figures they promise."""

from __future__ import annotations

import collections
import importlib.util
import json
import statistics
from pathlib import Path

import numpy as np
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
            "--rounds", "2", "--models", "cbow", "--workers", "1", "--json", str(out), "--skip-fasttext", "--skip-oov"]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "median of 2 alternating rounds" in printed and "| cbow | 1 | ours |" in printed
    gensim_row, ours_row = json.loads(out.read_text(encoding="utf-8"))["rows"]
    for row in (gensim_row, ours_row):
        speeds = sorted(r["words_per_sec"] for r in row["rounds"])
        assert len(speeds) == 2 and row["words_per_sec"] == pytest.approx(sum(speeds) / 2)  # median of 2
    assert ours_row["rounds"][0]["mrr"] == ours_row["rounds"][1]["mrr"]  # one worker: deterministic


def test_compare_gensim_segments_a_raw_corpus_and_summarizes_seeds(zipf_pairs, tmp_path, capsys):
    pytest.importorskip("gensim")
    pytest.importorskip("jieba")
    bench = _load("compare_gensim")
    lines = (zipf_pairs / "tokens.txt").read_text(encoding="utf-8").splitlines()
    raw = tmp_path / "novel.txt"  # the token lines as raw text: indented, punctuated, CRLF line ends
    raw.write_text("".join("\u3000\u3000" + "，".join(line.split()) + "。\r\n" for line in lines), encoding="utf-8")
    user_dict = tmp_path / "userdict.txt"  # keeps 词12 whole (jieba alone would cut off the digits)
    user_dict.write_text("".join(f"词{i} 3000\n" for i in range(40)), encoding="utf-8")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("词1 词2\n词3 词4 词5\n", encoding="utf-8")
    out = tmp_path / "result.json"
    argv = ["--corpus", str(raw), "--user-dict", str(user_dict), "--aliases", str(aliases), "--epochs", "1",
            "--models", "cbow", "--seeds", "1", "2", "3", "--per-group", "--json", str(out), "--skip-fasttext", "--skip-oov",
            "--analogy-sets", "--word-pairs"]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| cbow | 1 2 3 |" in printed and "cbow MRR per seed: ours [" in printed
    assert "cbow, alias MRR per group over seeds" in printed and "| 词3 词4 词5 |" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    ours = [r for r in result["rows"] if r["impl"] == "ours"]
    theirs = [r for r in result["rows"] if r["impl"] == "gensim"]
    assert [r["seed"] for r in ours] == [r["settings"]["seed"] for r in ours] == [1, 2, 3]
    counts = collections.Counter(" ".join(lines).split())
    assert ours[0]["n_tokens"] == sum(n for n in counts.values() if n >= 3)  # segmented back to the same words
    (summary,) = result["summary"]
    for side, rows in (("ours", ours), ("gensim", theirs)):
        mrr = [r["mrr"] for r in rows]
        assert summary[side]["mrr_per_seed"] == mrr
        assert summary[side]["mrr_mean"] == pytest.approx(statistics.fmean(mrr))
        assert summary[side]["mrr_std"] == pytest.approx(statistics.stdev(mrr))
    assert [e["group"] for e in summary["per_group"]] == ["词1 词2", "词3 词4 词5"]
    for i, entry in enumerate(summary["per_group"]):
        scored = [r["group_mrr"][i] for r in ours if r["group_mrr"][i] is not None]
        if len(scored) < 2:  # a group scored on fewer than 2 seeds has no spread
            assert entry["ours"] is None
        else:
            assert entry["ours"]["mean"] == pytest.approx(statistics.fmean(scored))
            assert entry["ours"]["std"] == pytest.approx(statistics.stdev(scored))
    if summary["gensim"]["mrr_std"]:
        assert summary["mrr_std_ratio"] == pytest.approx(summary["ours"]["mrr_std"] / summary["gensim"]["mrr_std"])


def test_compare_gensim_passes_gensim_set_to_gensim_only(zipf_pairs, tmp_path):
    pytest.importorskip("gensim")
    bench = _load("compare_gensim")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("词1 词2\n", encoding="utf-8")
    base = ["--tokens", str(zipf_pairs / "tokens.txt"), "--aliases", str(aliases), "--epochs", "1",
            "--models", "skipgram", "--workers", "1", "--skip-fasttext", "--skip-oov"]
    alphas = {}
    for extra in ([], ["--gensim-set", "alpha=0.05", "--gensim-set", "sample=0"]):
        out = tmp_path / f"rows{len(extra)}.json"
        assert bench.main([*base, *extra, "--json", str(out)]) == 0
        gensim_row, ours_row = json.loads(out.read_text(encoding="utf-8"))["rows"]
        alphas[len(extra)] = gensim_row["alpha"]
        assert ours_row["settings"]["alpha"] != 0.05 and ours_row["settings"]["sample"] > 0  # ours untouched
    assert alphas == {0: 0.025, 4: 0.05}  # gensim's default, then the override
    with pytest.raises(SystemExit, match="not KEY=VALUE"):
        bench.parse_assignments(["alpha0.05"])
    for flag in ("--set", "--gensim-set"):  # refused with the arguments, before any segmenting or training
        with pytest.raises(SystemExit, match="not KEY=VALUE"):
            bench.parse_args([flag, "batch_size4096"])


def test_compare_gensim_scores_fasttext_test_sets_and_held_out_names(zipf_pairs, tmp_path, capsys):
    pytest.importorskip("gensim")
    bench = _load("compare_gensim")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("词1 词2 词3\n词4 词5\n", encoding="utf-8")
    analogies = tmp_path / "ca8.txt"  # 词97 is in no vocabulary: FastText and ours with characters compose it
    analogies.write_text(": A\n词1 词2 词3 词4\n词2 词3 词4 词5\n词97 词1 词2 词3\n", encoding="utf-8")
    pairs = tmp_path / "cos960.txt"
    pairs.write_text("词1 词2 3 3\n词3 词4 1 1\n词5 词6 2 2\n词98 词7 0 0\n", encoding="utf-8")
    out = tmp_path / "rows.json"
    argv = ["--tokens", str(zipf_pairs / "tokens.txt"), "--aliases", str(aliases), "--epochs", "1",
            "--models", "cbow", "--workers", "1", "--analogy-sets", str(analogies), "--word-pairs", str(pairs),
            "--fasttext-set", "bucket=5000", "--set", 'chars="cwe"', "--json", str(out)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| ca8 | cos960 | OOV hit@10 |" in printed and "| cbow | 1 | gensim FastText |" in printed
    assert "With words composed from characters" in printed
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["impl"] for r in rows] == ["gensim", "fasttext", "ours"]
    for row in rows:
        ca8, cos = row["test_sets"]
        assert (ca8["name"], ca8["vocab"]["used"], cos["name"], cos["vocab"]["used"]) == ("ca8", 2, "cos960", 3)
        assert row["oov_names"] == 2  # round(3 / 3) and max(1, round(2 / 3)): one name of each group
        composes = row["impl"] != "gensim"
        assert (ca8["chars"] is not None, cos["chars"] is not None) == (composes, composes)
        if composes:
            assert ca8["chars"]["used"] == 3 and cos["chars"]["used"] == 4
        else:  # no vector for a held-out name: every one a miss
            assert row["oov_hits"] == 0 and row["oov_hit_at_10"] == 0
    assert rows[1]["oov_hit_at_10"] == rows[1]["oov_hits"] / 2


def test_held_out_names_are_a_third_of_each_group_and_leave_every_side(zipf_pairs, tmp_path):
    bench = _load("compare_gensim")
    groups = [["甲", "乙"], ["丙", "丁", "戊"], list("己庚辛壬癸"), list("子丑寅卯辰巳")]
    held = bench.holdout_names(groups, seed=1)
    assert sorted(collections.Counter(held.values()).items()) == [(0, 1), (1, 1), (2, 2), (3, 2)]
    assert all(name in groups[g] for name, g in held.items())
    assert bench.holdout_names(groups, seed=1) == held
    assert any(bench.holdout_names(groups, seed=s) != held for s in range(2, 6))
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("词1 词2 词3\n词4 词5\n", encoding="utf-8")
    prepared = bench.prepare_held_out(zipf_pairs / "tokens.txt", str(aliases), 1, 1, 3, tmp_path / "oov")
    gone = set(prepared["held"])
    assert len(gone) == 2 and not gone & set(prepared["tokens"].read_text(encoding="utf-8").split())
    from w2v.data.vocab import load_vocab

    vocab = set(load_vocab(prepared["vocab"]).tokens)
    assert not gone & vocab and {"词6", "词7"} <= vocab


def test_oov_hits_count_partners_among_the_nearest_words():
    bench = _load("compare_gensim")
    from w2v.vectors import KeyedVectors

    class Composing(KeyedVectors):
        def has_vector(self, word):
            return word in self or word == "甲乙"

        def get_vector(self, word):
            return self[word] if word in self else np.array([1.0, 0.1])

    angles = np.deg2rad([0, 20, 90, 180])
    kv = Composing(["甲", "丙", "丁", "戊"], np.stack([np.cos(angles), np.sin(angles)], axis=1))
    groups = [["甲乙", "甲"], ["丁丁", "丙"], ["戊戊", "戊"]]
    held = {"甲乙": 0, "丁丁": 1, "戊戊": 2}  # the first composed, the others without a vector
    assert bench.oov_hits(kv, groups, held, topn=1) == {"oov_hits": 1, "oov_names": 3, "oov_hit_at_10": 1 / 3}
    groups[0] = ["甲乙", "丁"]  # now its partner ranks 3rd of 4 for the composed vector
    assert bench.oov_hits(kv, groups, held, topn=2)["oov_hits"] == 0
    assert bench.oov_hits(kv, groups, held, topn=3)["oov_hits"] == 1


def test_group_spreads_compare_only_groups_matched_in_level(tmp_path):
    bench = _load("compare_gensim")
    aliases = tmp_path / "aliases.txt"
    aliases.write_text("甲 乙\n丙 丁\n戊 己\n", encoding="utf-8")
    ours = [[0.4, 0.25, 0.9], [0.6, 0.45, 0.3], [0.5, 0.35, 0.6]]  # per seed: group MRRs
    gensim = [[0.45, 0.01, 0.5], [0.55, 0.01, 0.4], [0.50, 0.02, None]]
    rows = [{"model": "skipgram", "impl": impl, "seed": seed, "mrr": 0.3, "words_per_sec": 1.0, "group_mrr": g}
            for seed in (1, 2, 3) for impl, g in (("gensim", gensim[seed - 1]), ("ours", ours[seed - 1]))]
    (summary,) = bench.summarize(rows)
    bench.attach_group_spreads([summary], rows, str(aliases))
    first, floor, third = summary["per_group"]
    assert first["group"] == "甲 乙" and first["ours"]["mean"] == pytest.approx(0.5)
    assert first["ours"]["std"] == pytest.approx(0.1) and first["gensim"]["std"] == pytest.approx(0.05)
    assert third["gensim"] == {"mean": pytest.approx(0.45), "std": pytest.approx(statistics.stdev([0.5, 0.4]))}
    # gensim sits at the floor on the second group (tiny spread, ours is mid-range): not compared.
    assert floor["gensim"]["mean"] < 0.2 < floor["ours"]["mean"] and summary["matched_groups"] == 2
    assert first["std_ratio"] == pytest.approx(2.0) and floor["std_ratio"] > 1
    ratios = [0.1 / 0.05, statistics.stdev([0.9, 0.3, 0.6]) / statistics.stdev([0.5, 0.4])]
    assert summary["matched_std_ratio"] == pytest.approx(statistics.median(ratios))


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


@pytest.mark.parametrize("with_gensim", [False, True])
def test_large_vocab_times_ours_against_gensim(tmp_path, capsys, with_gensim):
    if with_gensim:
        pytest.importorskip("gensim")
    bench = _load("large_vocab")
    out = tmp_path / "rows.json"
    argv = ["--words", "500", "--dim", "8", "--json", str(out)] + ([] if with_gensim else ["--skip-gensim"])
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "| write text |" in printed and "| closest_keys (next query) |" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    steps = [row["step"] for row in result["rows"]]
    assert steps == ["write text", "read text", "write binary", "read binary", "load text + 1 most_similar"]
    assert all(row["ours"] > 0 and (("gensim" in row) == with_gensim) for row in result["rows"])
    assert len(result["ours_only"]) == 5


def test_large_vocab_keys_are_distinct_chinese_words():
    bench = _load("large_vocab")
    keys = bench.make_keys(3000, np.random.default_rng(0))
    assert len(keys) == len(set(keys)) == 3000
    assert all(1 <= len(k) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in k) for k in keys)


def test_count_merge_measures_every_job_and_checks_the_vocabulary(tmp_path, capsys):
    bench = _load("count_merge")
    out = tmp_path / "rows.json"
    argv = ["--distinct", "3000", "--partitions", "1", "3", "--shards", "3", "--frequent", "200", "--baseline",
            "--workdir", str(tmp_path / "work"), "--json", str(out)]
    assert bench.main(argv) == 0  # it stops if a partitioned vocab.tsv differs from the in-memory one
    assert "| 3,000 | 3 |" in capsys.readouterr().out
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["partitions"], r["merge_jobs"]) for r in rows] == [("in-memory", 1), (1, 1), (3, 3)]
    assert all(50 < r["merge_peak_mb"] < 2000 for r in rows)  # a job's own peak, not the benchmark's


def test_count_merge_synthetic_tokens_are_distinct_cjk_words():
    bench = _load("count_merge")
    tokens = bench.tokens(np.array([0, 1, 3499, 3500, 20_000_000])).to_pylist()
    assert len(set(tokens)) == 5 and all(len(t) == 3 and all("\u4e00" <= c <= "\u9fff" for c in t) for t in tokens)
    assert tokens[0] == "一一一" and tokens[3] == "一丁一"


def _fake_checkout(root: Path, name: str, means: dict[str, float], sha: str, log: Path) -> Path:
    """A checkout whose benchmarks/epoch_cpu.py prints epoch_cpu's summary lines and logs its call."""
    (root / name / "benchmarks").mkdir(parents=True)
    (root / name / "benchmarks" / "epoch_cpu.py").write_text(
        "import os, sys\n"
        f"open({str(log)!r}, 'a').write({name!r} + ' ' + os.environ['PYTHONPATH'] + ' ' + ' '.join(sys.argv[1:]) + '\\n')\n"
        f"for model, mean in {means!r}.items():\n"
        "    print(f'{model}: CPU-s per epoch after the first: mean {mean:.3f}, min {mean:.3f} '\n"
        f"          f'(wall mean 0.1); vectors sha256 {sha}')\n",
        encoding="utf-8")
    return root / name


def test_epoch_ab_alternates_checkouts_and_prints_ratios_and_checksums(tmp_path, capsys):
    bench = _load("epoch_ab")
    log = tmp_path / "calls.log"
    old = _fake_checkout(tmp_path, "old", {"cbow": 0.5, "skipgram": 1.0}, "aaaa", log)
    new = _fake_checkout(tmp_path, "new", {"cbow": 0.45, "skipgram": 1.1}, "aaaa", log)
    bench.main([str(old), str(new), "--rounds", "2", "--epochs", "3", "--", "--set", 'chars="none"'])
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [c.split()[0] for c in calls] == ["old", "new", "old", "new"]
    assert calls[0].split()[1] == str(old.resolve() / "src")  # each runs its own code
    assert calls[1].endswith('--models cbow skipgram --epochs 3 --set chars="none"')
    printed = capsys.readouterr().out
    assert "round 2: cbow 0.500 -> 0.450, skipgram 1.000 -> 1.100" in printed
    assert "cbow: CPU-s per epoch old 0.500, new 0.450, new/old 0.900" in printed
    assert "skipgram: CPU-s per epoch old 1.000, new 1.100, new/old 1.100 (rounds 1.10-1.10); vectors bit-identical" in printed


def test_epoch_ab_reports_differing_vectors_and_a_missing_model(tmp_path, capsys):
    bench = _load("epoch_ab")
    log = tmp_path / "calls.log"
    old = _fake_checkout(tmp_path, "old", {"cbow": 0.5}, "aaaa", log)
    new = _fake_checkout(tmp_path, "new", {"cbow": 0.5}, "bbbb", log)
    bench.main([str(old), str(new), "--rounds", "1", "--models", "cbow"])
    assert "vectors checksums {'old': ['aaaa'], 'new': ['bbbb']}" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no per-epoch line for \\['skipgram'\\]"):
        bench.main([str(old), str(new), "--rounds", "1", "--models", "cbow", "skipgram"])
