"""w2v: Chinese text preparation and word2vec training on jingu."""

__version__ = "0.1.0"
