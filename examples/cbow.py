"""CBOW in PyTorch style on jingu: predict a word from the mean of the words around it.

    python examples/cbow.py --epochs 5 --device cpu

The model is two tables: ``embeddings`` (the word vectors, looked up by id) and ``output``, a
bias-free linear layer that scores every word of the vocabulary against the averaged context;
cross-entropy over those scores is word2vec's full softmax. The loop is ``train`` in common.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import jingu
from jingu import nn
from jingu.data import Dataset

from common import NOVEL, PAD, SEED, load_chapter, run_script, train  # examples/common.py, beside this file

EMBEDDING_DIM = 64
WINDOW = 2  # context words on each side
MIN_COUNT = 2
EPOCHS = 5


class CBOWDataset(Dataset):
    """One example per word: the ids of its ``window`` neighbours each side (``pad`` beyond the
    paragraph) and its own id."""

    def __init__(self, sentences: list[list[int]], pad: int, window: int) -> None:
        contexts, centres = [], []
        for ids in sentences:
            padded = [pad] * window + ids + [pad] * window
            for i, centre in enumerate(ids, start=window):
                contexts.append(padded[i - window : i] + padded[i + 1 : i + window + 1])
                centres.append(centre)
        self.contexts = np.array(contexts, dtype=np.int64).reshape(-1, 2 * window)
        self.centres = np.array(centres, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.centres)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.int64]:
        return self.contexts[i], self.centres[i]

    @staticmethod
    def collate_fn(examples: list[tuple[np.ndarray, np.int64]]) -> tuple[jingu.Tensor, jingu.Tensor]:
        """A list of examples -> contexts (batch, 2 * window) and centres (batch,) as tensors."""
        contexts, centres = zip(*examples)
        return jingu.tensor(np.stack(contexts)), jingu.tensor(np.array(centres))


class CBOWModel(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int) -> None:
        super().__init__()  # registers the layers set below as this model's parameters
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.output = nn.Linear(embedding_dim, vocab_size, bias=False)

    def forward(self, contexts: jingu.Tensor) -> jingu.Tensor:
        hidden = self.embeddings(contexts).mean(dim=1)  # (batch, 2 * window, dim) -> (batch, dim)
        return self.output(hidden)  # one score per vocabulary word: (batch, vocab_size)


def main(epochs: int = EPOCHS, device: str | None = None, corpus: Path = NOVEL) -> list[float]:
    """Train CBOW on the first chapter of ``corpus``; the mean loss before training, then after each epoch."""
    device = jingu.device(device or ("cuda:0" if jingu.cuda.is_available() else "cpu"))
    sentences, vocab = load_chapter(corpus, MIN_COUNT)
    dataset = CBOWDataset(sentences, pad=vocab.ids[PAD], window=WINDOW)
    jingu.manual_seed(SEED)  # the same initial tables on every run
    model = CBOWModel(len(vocab), EMBEDDING_DIM)
    print(f"vocabulary of {len(vocab)} words")
    return train(model, dataset, device, epochs)


if __name__ == "__main__":
    run_script(main, __doc__.splitlines()[0], EPOCHS)
