"""What cbow.py and skipgram.py share: the novel's first chapter as word ids, and the training loop.

Read an example first (its Dataset and its model), then ``train`` below: the loop PyTorch users know,
written with jingu.
"""

from __future__ import annotations

import argparse
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Callable

import jieba

import jingu
from jingu import nn
from jingu.data import DataLoader, Dataset
from jingu.optim import SGD

NOVEL = Path(__file__).resolve().parent.parent / "data" / "raw" / "xiyouji.txt"  # 西游记, the default corpus
PAD = "<pad>"  # fills the window beyond a paragraph's edges; never a word, since words hold a Chinese character
BATCH_SIZE = 64
LR = 1.0  # the blog's step size for SGD on a batch's mean loss
SEED = 0


class CorpusError(ValueError):
    """A corpus the examples cannot use; the command line shows it as one line."""


_HEADING = re.compile(r"第[一二三四五六七八九十百零]+回")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def first_chapter(path: Path) -> list[str]:
    """The non-empty lines from the top of ``path`` to the line before its second chapter heading."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start}); convert it, e.g. with iconv -f gb18030") from None
    lines = [line.strip() for line in text.splitlines()]
    headings = [i for i, line in enumerate(lines) if _HEADING.match(line)]
    end = headings[1] if len(headings) > 1 else len(lines)
    return [line for line in lines[:end] if line]


def segment(lines: list[str]) -> list[list[str]]:
    """Words of each line by jieba's accurate mode; tokens without a Chinese character (punctuation) go."""
    jieba.setLogLevel(logging.WARNING)  # its notes about building the dictionary are not ours to show
    return [[word for word in jieba.lcut(line) if _HAN.search(word)] for line in lines]


class Vocabulary:
    """Words seen at least ``min_count`` times, with ids by (count descending, word); id 0 is ``PAD``."""

    def __init__(self, sentences: list[list[str]], min_count: int) -> None:
        counts = Counter(word for sentence in sentences for word in sentence)
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        self.words = [PAD, *kept]
        self.ids = {word: i for i, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: list[str]) -> list[int]:
        """The ids of a sentence's words; rarer words are left out, as gensim does."""
        return [self.ids[word] for word in sentence if word in self.ids]


def load_chapter(path: Path, min_count: int) -> tuple[list[list[int]], Vocabulary]:
    """The first chapter of ``path`` as lists of word ids (one per paragraph), and its vocabulary."""
    sentences = segment(first_chapter(path))
    vocab = Vocabulary(sentences, min_count)
    if len(vocab) == 1:
        raise CorpusError(f"{path}: no Chinese word appears {min_count} times in its first chapter; use a Chinese novel")
    return [vocab.encode(sentence) for sentence in sentences], vocab


def evaluate(model: nn.Module, dataset: Dataset, device: str) -> float:
    """The mean cross-entropy over every example, without recording a graph."""
    loader = DataLoader(dataset, batch_size=1024, collate_fn=dataset.collate_fn)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.eval()
    total = 0.0
    with jingu.no_grad():
        for inputs, targets in loader:
            total += loss_fn(model(inputs.to(device)), targets.to(device)).item()
    model.train()
    return total / len(dataset)


def train(model: nn.Module, dataset: Dataset, device: str, epochs: int) -> list[float]:
    """Train ``model`` with SGD on shuffled batches; the mean loss before training, then after each epoch."""
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, collate_fn=dataset.collate_fn, generator=SEED)
    model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=LR)
    losses = [evaluate(model, dataset, device)]
    print(f"{len(dataset)} examples on {device}; loss before training {losses[0]:.3f}")
    for epoch in range(1, epochs + 1):
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
        losses.append(evaluate(model, dataset, device))
        print(f"epoch {epoch}/{epochs}: loss {losses[-1]:.3f}")
    return losses


def run_script(main: Callable[[int, str | None, Path], list[float]], description: str, epochs: int) -> None:
    """Call an example's ``main`` with the command line's ``--epochs``, ``--device`` (checked by
    ``jingu.device``) and ``--corpus``; a bad flag or corpus exits with status 2 and one line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs, help=f"passes over the data (default {epochs})")
    parser.add_argument("--device", type=_device, default=None,
                        help="cpu, cuda or cuda:N (default: cuda:0 when CuPy sees a GPU, else cpu)")
    parser.add_argument("--corpus", type=Path, default=NOVEL, help="a UTF-8 novel; its first chapter is used")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if not args.corpus.is_file():
        parser.error(f"--corpus {args.corpus}: no such file")
    try:
        main(args.epochs, args.device, args.corpus)
    except CorpusError as exc:
        parser.error(str(exc))


def _device(name: str) -> str:
    try:
        return jingu.device(name)
    except (ValueError, RuntimeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
