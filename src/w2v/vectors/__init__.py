"""Word vectors as users load them: `KeyedVectors` (lookup, neighbours, words composed from their
characters) and the word2vec text and binary file formats it reads and writes."""

from w2v.vectors.keyed import KeyedVectors, attach_chars, chars_path, is_binary_word2vec

__all__ = ["KeyedVectors", "attach_chars", "chars_path", "is_binary_word2vec"]
