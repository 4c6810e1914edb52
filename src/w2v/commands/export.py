"""`w2v export`: files for TensorBoard's Embedding Projector (projector.tensorflow.org).

For each vector file ``{name}.vec`` it writes, in the output folder, the layout of gensim's
``word2vec2tensor``: ``{name}_tensor.tsv`` (one vector a row, values separated by tabs) and
``{name}_metadata.tsv`` (one word a row, in the same order), plus one ``projector_config.json``
naming every tensor. The metadata has a header row and a second column (the word's count from the
vocabulary, or its frequency rank without one), since the Projector reads a header only when a
file has more than one column.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

CONFIG = "projector_config.json"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write TensorBoard Embedding Projector files (tensor and metadata TSV, projector_config.json)",
        description=(
            "Write, for each word2vec file, NAME_tensor.tsv and NAME_metadata.tsv (the layout of gensim's "
            "word2vec2tensor, NAME being the file name without extension) and one projector_config.json "
            "into OUT. Load them at projector.tensorflow.org ('Load', or 'Publish' with the config)."
        ),
    )
    parser.add_argument("vectors", nargs="+", help="word2vec files (results/cbow.vec results/skipgram.vec)")
    parser.add_argument("-o", "--output", required=True, help="folder to write into (results/projector)")
    parser.add_argument("--vocab", default="", help="vocabulary TSV for a count column (results/vocab.tsv)")
    parser.add_argument("--binary", action="store_true",
                        help="read the vector files as binary word2vec (detected from their first rows without it)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from w2v.errors import UserError
    from w2v.io import atomic_open
    from w2v.vectors import KeyedVectors
    from w2v.data.vocab import load_vocab

    names = [Path(v).stem for v in args.vectors]
    if len(set(names)) != len(names):
        raise UserError(f"vector files need distinct names (they name the tensors), got {', '.join(names)}")
    counts = {}
    if args.vocab:
        vocabulary = load_vocab(args.vocab)
        counts = dict(zip(vocabulary.tokens, vocabulary.counts.tolist()))
    models = [(name, KeyedVectors.load_word2vec_format(path, binary=True if args.binary else None))
              for name, path in zip(names, args.vectors)]  # all read before anything is written
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    embeddings = [write_tensor(out, name, kv, counts) for name, kv in models]
    with atomic_open(out / CONFIG, "w") as handle:
        json.dump({"embeddings": embeddings}, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    logger.info("wrote %s and %d tensor(s) in %s", CONFIG, len(embeddings), out)
    return 0


def write_tensor(out: Path, name: str, kv, counts: dict[str, int]) -> dict:
    """Write NAME_tensor.tsv and NAME_metadata.tsv; return the projector_config entry."""
    from w2v.io import atomic_open

    tensor, metadata = f"{name}_tensor.tsv", f"{name}_metadata.tsv"
    with atomic_open(out / tensor, "w") as handle:
        np.savetxt(handle, kv.vectors.astype(np.float64), fmt="%.9g", delimiter="\t")  # %.9g: float32 exact
    with atomic_open(out / metadata, "w") as handle:
        if counts:
            handle.write("word\tcount\n")
            handle.writelines(f"{word}\t{counts.get(word, 0)}\n" for word in kv.index_to_key)
        else:
            handle.write("word\trank\n")
            handle.writelines(f"{word}\t{rank}\n" for rank, word in enumerate(kv.index_to_key, start=1))
    return {"tensorName": name, "tensorShape": list(kv.vectors.shape), "tensorPath": tensor, "metadataPath": metadata}
