"""Skip-gram in PyTorch style on jingu: predict each word around a word from that word alone.

    python examples/skipgram.py --epochs 5 --device cpu

Same two tables as CBOW (cbow.py), without the mean: a word's vector, scored by a bias-free linear
layer against every word of the vocabulary, should pick out the words seen near it. The loop is
``train`` in common.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import jingu
from jingu import nn
from jingu.data import Dataset

from common import NOVEL, SEED, load_chapter, run_script, train  # examples/common.py, beside this file

EMBEDDING_DIM = 64
WINDOW = 2  # context words on each side
MIN_COUNT = 2
EPOCHS = 5


class SkipGramDataset(Dataset):
    """One (centre, context) pair of ids for every two words at most ``window`` apart in a paragraph."""

    def __init__(self, sentences: list[list[int]], window: int) -> None:
        pairs = []
        for ids in sentences:
            for i, centre in enumerate(ids):
                context = ids[max(0, i - window) : i] + ids[i + 1 : i + window + 1]
                pairs.extend((centre, word) for word in context)
        self.pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.pairs[i]

    @staticmethod
    def collate_fn(examples: list[np.ndarray]) -> tuple[jingu.Tensor, jingu.Tensor]:
        """A list of pairs -> centres (batch,) and context words (batch,) as tensors."""
        pairs = np.stack(examples)
        return jingu.tensor(pairs[:, 0]), jingu.tensor(pairs[:, 1])


class SkipGramModel(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int) -> None:
        super().__init__()  # registers the layers set below as this model's parameters
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.output = nn.Linear(embedding_dim, vocab_size, bias=False)

    def forward(self, centres: jingu.Tensor) -> jingu.Tensor:
        return self.output(self.embeddings(centres))  # (batch, dim) -> (batch, vocab_size)


def main(epochs: int = EPOCHS, device: str | None = None, corpus: Path = NOVEL) -> list[float]:
    """Train skip-gram on the first chapter of ``corpus``; the mean loss before training, then after each epoch."""
    device = jingu.device(device or ("cuda:0" if jingu.cuda.is_available() else "cpu"))
    sentences, vocab = load_chapter(corpus, MIN_COUNT)
    dataset = SkipGramDataset(sentences, window=WINDOW)
    jingu.manual_seed(SEED)  # the same initial tables on every run
    model = SkipGramModel(len(vocab), EMBEDDING_DIM)
    print(f"vocabulary of {len(vocab)} words")
    return train(model, dataset, device, epochs)


if __name__ == "__main__":
    run_script(main, __doc__.splitlines()[0], EPOCHS)
