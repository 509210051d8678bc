"""A bounded memory of encoded windows, so a changed query costs only the decoder.

The separation encoder does not depend on the query: re-rendering the clip the panel
shows with another preset, or A/B of two presets, feeds the encoder the same windows
again. `EncodedCache` keys each batch of windows by a digest of its samples and keeps
the `EncodedWindows` of the most recently used batches up to a byte budget; a hit skips
the encoder. Only windows whose features live in host memory are kept (a GPU's stay on
the device, where the encoder is cheap anyway).
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from clapsep.host.runtime import EncodedWindows

Encode = Callable[[np.ndarray], EncodedWindows]


def encoded_bytes(encoded: EncodedWindows) -> int | None:
    """Host bytes an encoded batch holds; None when part of it is on a device."""
    arrays = [encoded.mixture, encoded.sounding, *encoded.inputs.values()]
    if not all(isinstance(a, np.ndarray) for a in arrays):
        return None
    return sum(a.nbytes for a in arrays)


class EncodedCache:
    """Least recently used `EncodedWindows` under a byte budget; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._entries: OrderedDict[bytes, tuple[EncodedWindows, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def encode(self, windows: np.ndarray, encode: Encode) -> EncodedWindows:
        """`encode(windows)`, or the kept result of an earlier batch with the same samples."""
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        key = hashlib.blake2b(str(windows.shape).encode(), digest_size=20)
        key.update(windows.data)
        digest = key.digest()
        with self._lock:
            if (entry := self._entries.get(digest)) is not None:
                self._entries.move_to_end(digest)
                self.hits += 1
                return entry[0]
            self.misses += 1
        encoded = encode(windows)
        size = encoded_bytes(encoded)
        if size is None or size > self.max_bytes:
            return encoded
        with self._lock:
            if digest not in self._entries:
                self._entries[digest] = (encoded, size)
                self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        return encoded

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
