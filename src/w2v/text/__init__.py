"""Text preparation: reading the raw corpus, jieba segmentation, cleaning into sentences.

Modules: `corpus` (decoding and sharding the raw file), `userdict` (the jieba user dictionary),
`segment` (our own jieba tokenizer and its cache), `clean` (punctuation removal, sentence splitting).
"""
