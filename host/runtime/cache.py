"""A cache of query embeddings keyed by query content and model package.

Encoding an audio query runs CLAP's audio tower over 10 s of audio; users re-run the
same preset on many clips, so each single embedding (one text, one audio shot) is kept
in memory and, given a folder, on disk as `.npy`. Keys hash the package digest with the
query's content (the text itself, or the audio file's bytes, never its path), so a
re-exported package or an edited file can never return a stale vector.
"""

import hashlib
from contextlib import suppress
from pathlib import Path

import numpy as np

from clapsep.files import replacing


class EmbeddingCache:
    """Memory + optional disk cache of float32 vectors for one package."""

    def __init__(self, package_digest: str, directory: Path | None = None) -> None:
        self._digest = package_digest
        self._directory = Path(directory) if directory is not None else None
        self._memory: dict[str, np.ndarray] = {}

    def key(self, kind: str, content: bytes) -> str:
        digest = hashlib.sha256(f"{self._digest}\0{kind}\0".encode())
        digest.update(content)
        return digest.hexdigest()

    def get(self, key: str) -> np.ndarray | None:
        if key in self._memory:
            return self._memory[key]
        if self._directory is None:
            return None
        path = self._directory / f"{key}.npy"
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError):  # absent, or a torn write from a killed process
            return None
        self._memory[key] = value
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        value = np.asarray(value, dtype=np.float32)
        self._memory[key] = value
        if self._directory is None:
            return
        # Readers never see half a file; a cache that cannot be written is only slower.
        with (
            suppress(OSError),
            replacing(self._directory / f"{key}.npy") as temp,
            open(temp, "wb") as f,
        ):
            np.save(f, value, allow_pickle=False)
