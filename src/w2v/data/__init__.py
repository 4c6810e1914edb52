"""What the text stages hand to training: token counts, the vocabulary, the character table and the
window-pair datasets, with the file contracts that tie them together."""
