"""Training data: clip catalogues, decoded-clip storage and on-the-fly mixtures."""
