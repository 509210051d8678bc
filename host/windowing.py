"""Overlapping windows and overlap-add around any `fn(batch) -> batch`.

This module knows nothing about models: the ONNX separator, a test identity or a
fixed gain all plug in as `fn`, which maps a float32 batch [B, window] to [B, window], or
to [K, B, window] for `outputs=K` results per window (one per query of a multi-stem
render, all from one pass over the input). Signals are (channels, samples) float32 (a 1-D
signal is one channel).

Plan: windows of `window` samples advance by `hop = window - overlap`. The first
starts at `-overlap`, so the signal's first sample lies where the first window's
weight is already 1; windows continue until one's flat part reaches the end. Each
window borrows real context from its neighbours and is zero-padded only past the
signal's ends. Every window is weighted by a flat-top crossfade whose fade-in and
fade-out are amplitude-complementary (sin² / cos², sampled half a sample off the
ends, so no weight is ever 0), and the result is divided by the sum of the weights
actually applied: any overlap, any length and a short last window are exact, and an
identity `fn` returns the input to float rounding.

`OverlapAdd` runs the plan over a stream of blocks with memory bounded by a window
plus a batch, so files of any length go through in constant memory.
"""

from collections.abc import Callable

import numpy as np

BatchFn = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[float], None]
Cancel = Callable[[], bool]


class Cancelled(Exception):
    """The caller asked to stop; raised before the next batch is run."""


def crossfade_weights(window: int, overlap: int) -> np.ndarray:
    """Flat-top weights [window]: sin² fade-in and cos² fade-out over `overlap` samples."""
    _check(window, overlap)
    weights = np.ones(window, dtype=np.float64)
    if overlap:
        phase = (np.arange(overlap) + 0.5) / overlap * (np.pi / 2)
        weights[:overlap] = np.sin(phase) ** 2
        weights[window - overlap :] = np.cos(phase) ** 2
    return weights


def window_plan(n_samples: int, window: int, overlap: int) -> list[int]:
    """Start of each window in signal samples (the first is `-overlap`); [] for no samples."""
    _check(window, overlap)
    return [_start(i, window, overlap) for i in range(_count(n_samples, window, overlap))]


def separate_windows(
    signal: np.ndarray,
    fn: BatchFn,
    window: int,
    overlap: int,
    batch_size: int = 4,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> np.ndarray:
    """Run `fn` over a whole in-memory signal (1-D or (channels, samples)); same shape out."""
    x = np.asarray(signal, dtype=np.float32)
    two_d = x if x.ndim == 2 else x[None, :]
    ola = OverlapAdd(
        fn, two_d.shape[1], two_d.shape[0], window, overlap, batch_size, progress, cancel
    )
    out = ola.push(two_d)
    return out if x.ndim == 2 else out[0]


class OverlapAdd:
    """Streaming windowed `fn`: push (channels, n) blocks, get back finished output.

    The total length is given up front so the last windows run as soon as the last
    block arrives; the outputs of all pushes concatenate to exactly `n_samples`. Each
    channel's windows are separate rows of the batch. With `outputs` = K > 1, `fn` returns
    [K, B, window] and each push returns (K * channels, n): output k's channels are rows
    k*channels .. (k+1)*channels-1. `cancel` is checked before every call to `fn` and
    `progress` gets the fraction of windows done after every call.
    """

    def __init__(
        self,
        fn: BatchFn,
        n_samples: int,
        channels: int,
        window: int,
        overlap: int,
        batch_size: int = 4,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        outputs: int = 1,
    ) -> None:
        _check(window, overlap)
        if batch_size < 1 or channels < 1 or n_samples < 0 or outputs < 1:
            raise ValueError("batch_size, channels, outputs must be >= 1 and n_samples >= 0")
        self.fn, self.n, self.channels, self.outputs = fn, n_samples, channels, outputs
        self.window, self.overlap, self.hop = window, overlap, window - overlap
        self.batch_size, self.progress, self.cancel = batch_size, progress, cancel
        self.weights = crossfade_weights(window, overlap)
        self.total_windows = _count(n_samples, window, overlap)
        self.next_window = 0
        self.received = 0
        # Input kept from `in_start` (never below 0), output accumulated from `out_start`.
        self.in_start = 0
        self.inbuf = np.zeros((channels, 0), dtype=np.float32)
        self.out_start = 0
        self.acc = np.zeros((outputs, channels, 0), dtype=np.float64)
        self.wsum = np.zeros(0, dtype=np.float64)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add the next (channels, m) input samples; return the output that is now final."""
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"expected a ({self.channels}, samples) block, got {block.shape}")
        if self.received + block.shape[1] > self.n:
            raise ValueError(f"pushed more than the {self.n} samples announced")
        self.inbuf = np.concatenate([self.inbuf, block], axis=1)
        self.received += block.shape[1]
        ready = self._ready_windows()
        if ready and (ready * self.channels >= self.batch_size or self.received == self.n):
            self._run(ready)
        return self._emit()

    @property
    def buffered_samples(self) -> int:
        """Samples held in the input and output buffers (bounded, whatever the length)."""
        return self.inbuf.shape[1] + self.acc.shape[2]

    def _ready_windows(self) -> int:
        ready = 0
        for i in range(self.next_window, self.total_windows):
            if min(_start(i, self.window, self.overlap) + self.window, self.n) > self.received:
                break
            ready += 1
        return ready

    def _run(self, count: int) -> None:
        first = self.next_window
        starts = [_start(i, self.window, self.overlap) for i in range(first, first + count)]
        rows = np.concatenate([self._cut(s) for s in starts], axis=0)  # [count*channels, window]
        out = np.empty((self.outputs, *rows.shape), dtype=np.float32)
        for lo in range(0, rows.shape[0], self.batch_size):
            if self.cancel is not None and self.cancel():
                raise Cancelled("render cancelled")
            batch = rows[lo : lo + self.batch_size]
            result = np.asarray(self.fn(batch))
            expected = (self.outputs, *batch.shape) if self.outputs > 1 else batch.shape
            if result.shape != expected:
                raise ValueError(
                    f"fn returned shape {result.shape} for a batch of shape {batch.shape}"
                )
            out[:, lo : lo + batch.shape[0]] = result
            if self.progress is not None:
                done = first + (lo + batch.shape[0]) / rows.shape[0] * count
                self.progress(done / self.total_windows)
        for k, s in enumerate(starts):
            self._add(s, out[:, k * self.channels : (k + 1) * self.channels])
        self.next_window += count
        keep_from = self._next_start()
        if keep_from > self.in_start:
            drop = min(keep_from - self.in_start, self.inbuf.shape[1])
            self.inbuf = self.inbuf[:, drop:]
            self.in_start += drop

    def _cut(self, start: int) -> np.ndarray:
        """One window's (channels, window) input: real samples, zeros past the signal ends."""
        rows = np.zeros((self.channels, self.window), dtype=np.float32)
        lo, hi = max(start, 0), min(start + self.window, self.n)
        if hi > lo:
            rows[:, lo - start : hi - start] = self.inbuf[
                :, lo - self.in_start : hi - self.in_start
            ]
        return rows

    def _add(self, start: int, frames: np.ndarray) -> None:
        """Add one window's (outputs, channels, window) results, weighted."""
        lo, hi = max(start, self.out_start), min(start + self.window, self.n)
        if hi <= lo:
            return
        grow = hi - self.out_start - self.acc.shape[2]
        if grow > 0:
            self.acc = np.pad(self.acc, ((0, 0), (0, 0), (0, grow)))
            self.wsum = np.pad(self.wsum, (0, grow))
        w = self.weights[lo - start : hi - start]
        self.acc[:, :, lo - self.out_start : hi - self.out_start] += (
            frames[:, :, lo - start : hi - start] * w
        )
        self.wsum[lo - self.out_start : hi - self.out_start] += w

    def _next_start(self) -> int:
        """First sample a window not yet run can touch (the end when all have run)."""
        if self.next_window >= self.total_windows:
            return self.n
        return max(_start(self.next_window, self.window, self.overlap), 0)

    def _emit(self) -> np.ndarray:
        final = min(self._next_start(), self.out_start + self.acc.shape[2]) - self.out_start
        if final <= 0:
            return np.zeros((self.outputs * self.channels, 0), dtype=np.float32)
        wsum = self.wsum[:final]
        assert np.all(wsum > 0), "overlap-add left a sample with no window weight"
        out = (self.acc[:, :, :final] / wsum).astype(np.float32)
        self.acc, self.wsum = self.acc[:, :, final:], self.wsum[final:]
        self.out_start += final
        return out.reshape(self.outputs * self.channels, final)


def _check(window: int, overlap: int) -> None:
    if window < 1 or not 0 <= overlap <= window // 2:
        raise ValueError(
            f"need window >= 1 and 0 <= overlap <= window/2, got window={window}, overlap={overlap}"
        )


def _start(i: int, window: int, overlap: int) -> int:
    return -overlap + i * (window - overlap)


def _count(n_samples: int, window: int, overlap: int) -> int:
    """Windows until one's flat part (from `start + window - overlap`) reaches the end."""
    if n_samples <= 0:
        return 0
    hop = window - overlap
    return -(-max(0, n_samples + 2 * overlap - window) // hop) + 1
