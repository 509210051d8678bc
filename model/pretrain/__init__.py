"""Contrastive pre-training of the small CLAP used by the bundled model (audio tower <-> MiniLM)."""
