"""`w2v neighbors`: words from arguments, from a pipe, and interactively; unknown words."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from w2v.cli import main
from w2v.vectors import KeyedVectors

VEC = Path(__file__).parent / "data" / "eval" / "cbow.vec"


def expected_lines(word: str, topn: int) -> list[tuple[str, str]]:
    kv = KeyedVectors.load_word2vec_format(VEC)
    return [(w, f"{s:.3f}") for w, s in kv.most_similar(word, topn=topn)]


def parse(out: str) -> dict[str, list[tuple[str, str]]]:
    """Query title -> [(word, score)] from the command's output."""
    result, current = {}, None
    for line in out.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = result.setdefault(line[:-1], [])
        elif current is not None and line.startswith(" "):
            rank, word, score = line.split()
            assert int(rank) == len(current) + 1
            current.append((word, score))
    return result


def test_words_from_arguments(capsys) -> None:
    assert main(["neighbors", str(VEC), "孙悟空", "唐僧", "--topn", "3"]) == 0
    got = parse(capsys.readouterr().out)
    assert got == {"孙悟空": expected_lines("孙悟空", 3), "唐僧": expected_lines("唐僧", 3)}
    assert got["孙悟空"][0][0] == "悟空"  # the fixture puts the two names close


def test_unknown_word_suggests_spellings(capsys) -> None:
    assert main(["neighbors", str(VEC), "孙大圣", "唐僧", "--topn", "2"]) == 1
    out = capsys.readouterr().out
    assert "孙大圣: not in the vocabulary; did you mean: 孙悟空" in out
    assert "唐僧:" in out  # the known word is still answered


def test_words_from_a_pipe(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("唐僧\n\n孙悟空 八戒 - 妖精\nxyz\n"))
    assert main(["neighbors", str(VEC), "--topn", "2"]) == 0
    out = capsys.readouterr().out
    got = parse(out)
    kv = KeyedVectors.load_word2vec_format(VEC)
    analogy = [(w, f"{s:.3f}") for w, s in kv.most_similar(["孙悟空", "八戒"], ["妖精"], topn=2)]
    assert got["唐僧"] == expected_lines("唐僧", 2)
    assert got["孙悟空 + 八戒 - 妖精"] == analogy
    assert "xyz: not in the vocabulary" in out
    assert "word>" not in out  # no prompt when stdin is not a terminal


def test_interactive_prompt(monkeypatch, capsys) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty())
    answers = iter(["唐僧", ""])
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or next(answers))
    assert main(["neighbors", str(VEC), "--topn", "1"]) == 0
    out = capsys.readouterr().out
    assert prompts == ["word> ", "word> "]  # stops at the empty line
    assert "9 words loaded" in out and parse(out)["唐僧"] == expected_lines("唐僧", 1)


def test_bad_arguments(capsys, tmp_path) -> None:
    assert main(["neighbors", str(tmp_path / "missing.vec"), "唐僧"]) == 2
    assert "missing.vec: vector file not found" in capsys.readouterr().err
    assert main(["neighbors", str(VEC), "唐僧", "--topn", "0"]) == 2
    assert "--topn must be at least 1" in capsys.readouterr().err


def test_binary_vectors(tmp_path, capsys) -> None:
    path = tmp_path / "v.bin"
    KeyedVectors.load_word2vec_format(VEC).save_word2vec_format(path, binary=True)
    assert main(["neighbors", str(path), "唐僧", "--binary", "--topn", "2"]) == 0
    assert parse(capsys.readouterr().out)["唐僧"] == expected_lines("唐僧", 2)
    assert main(["neighbors", str(path), "唐僧", "--topn", "2"]) == 0  # detected without the flag
    assert parse(capsys.readouterr().out)["唐僧"] == expected_lines("唐僧", 2)


def test_readme_example_is_this_commands_output(capsys) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    command = "$ w2v neighbors tests/data/eval/cbow.vec 孙悟空 --topn 3\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    assert main(["neighbors", str(VEC), "孙悟空", "--topn", "3"]) == 0
    assert capsys.readouterr().out == shown, "README's `w2v neighbors` example is stale: paste this output"


# ---------------------------------------------------------------- character vectors
def vectors_with_chars(tmp_path: Path) -> Path:
    """The fixture's vectors with a character file beside them: 孙 and 大 known, 沙 and 尚 not."""
    vec = tmp_path / "cbow.vec"
    vec.write_bytes(VEC.read_bytes())
    kv = KeyedVectors.load_word2vec_format(VEC)
    rows = np.stack([kv["孙悟空"], kv["妖精"], kv["唐僧"]])
    KeyedVectors(["孙", "大", "和"], rows).save_word2vec_format(tmp_path / "cbow.chars.vec")
    return vec


def test_unknown_word_with_known_characters_gets_composed_neighbours(tmp_path, capsys) -> None:
    vec = vectors_with_chars(tmp_path)
    assert main(["neighbors", str(vec), "孙大圣", "--topn", "3"]) == 0
    out = capsys.readouterr().out
    assert "孙大圣: not in the vocabulary; vector composed from its characters" in out
    assert "did you mean" not in out
    kv = KeyedVectors.load_word2vec_format(vec)
    expected = [(w, f"{s:.3f}") for w, s in kv.most_similar("孙大圣", topn=3)]
    assert parse(out) == {"孙大圣": expected}
    assert expected != expected_lines("孙悟空", 3)  # the composed vector is not just 孙悟空's


def test_composed_words_in_a_sum_and_words_with_no_vector(tmp_path, monkeypatch, capsys) -> None:
    vec = vectors_with_chars(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("孙大圣 - 唐僧\n沙尚\n"))
    assert main(["neighbors", str(vec), "--topn", "2"]) == 0
    out = capsys.readouterr().out
    kv = KeyedVectors.load_word2vec_format(vec)
    assert parse(out)["孙大圣 - 唐僧"] == [(w, f"{s:.3f}") for w, s in kv.most_similar(["孙大圣"], ["唐僧"], topn=2)]
    assert out.count("vector composed from its characters") == 1
    assert "沙尚: not in the vocabulary" in out and "沙尚:\n" not in out  # no character known: no answer


def test_chars_none_keeps_spelling_hints(tmp_path, capsys) -> None:
    vec = vectors_with_chars(tmp_path)
    assert main(["neighbors", str(vec), "孙大圣", "--chars", "none"]) == 1
    assert "孙大圣: not in the vocabulary; did you mean: 孙悟空" in capsys.readouterr().out
