"""Streaming, zero-phase rational resampling with an exact output frame count.

Why not pedalboard's `StreamResampler` (or `AudioFile.resampled_to`): measured here
(pedalboard 0.9.26), its output is shifted by a rate-dependent fraction of a sample
(+0.5 source samples at 48k->32k, -0.61 at 44.1k->32k, -1.01 at 96k->32k). A target
resampled back with such a shift no longer lines up with the source, and the
residual `input - target` then leaks the target (-24 dB at 1 kHz for half a sample
at 48 kHz). Here output frame k sits exactly at source time k * source_rate /
target_rate, so a round trip returns band-limited audio in place.

The filter is a Kaiser-windowed sinc evaluated at every output's fractional
position (polyphase: one row per distinct phase), each row normalised to unit DC
gain. Blocks are (channels, n) float32; memory is a filter plus a few hundred frames.
"""

from math import gcd

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_ZERO_CROSSINGS = 24  # sinc lobes kept on each side (at the lower of the two rates)
_ROLLOFF = 0.94  # cutoff as a fraction of the lower Nyquist frequency
_KAISER_BETA = 8.6


class Resampler:
    """Push (channels, n) blocks at `source_rate`; outputs total exactly `out_frames`.

    Frames past the end of the input are computed as if the input continued with
    zeros, so the last outputs are complete and the count never depends on how the
    input was split into blocks. Equal rates pass blocks through untouched.
    """

    def __init__(self, source_rate: int, target_rate: int, channels: int, out_frames: int) -> None:
        if source_rate <= 0 or target_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {source_rate} and {target_rate}")
        g = gcd(int(source_rate), int(target_rate))
        self.up, self.down = int(target_rate) // g, int(source_rate) // g
        self.channels, self.out_frames = channels, out_frames
        self.passthrough = self.up == self.down
        self.emitted = 0
        if not self.passthrough:
            self.bank, self.half = _filter_bank(self.up, self.down)
            # Input held from absolute index `buf_start`; starts with `half` zeros before 0.
            self.buf_start = -self.half
            self.buf = np.zeros((channels, self.half), dtype=np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add input frames; return every output frame they complete."""
        block = np.asarray(block, dtype=np.float32)
        if self.passthrough:
            return self._take(block)
        self.buf = np.concatenate([self.buf, block], axis=1)
        return self._produce(self.buf_start + self.buf.shape[1])

    def finish(self) -> np.ndarray:
        """The remaining outputs, reading zeros past the end of the input."""
        if self.passthrough:
            out = np.zeros((self.channels, self.out_frames - self.emitted), dtype=np.float32)
            self.emitted = self.out_frames
            return out
        need = self._last_input(self.out_frames - 1) + 1 - (self.buf_start + self.buf.shape[1])
        if need > 0:
            self.buf = np.concatenate(
                [self.buf, np.zeros((self.channels, need), np.float32)], axis=1
            )
        return self._produce(self.buf_start + self.buf.shape[1])

    def _take(self, block: np.ndarray) -> np.ndarray:
        block = block[:, : max(0, self.out_frames - self.emitted)]
        self.emitted += block.shape[1]
        return block

    def _last_input(self, k: int) -> int:
        """Highest input index output frame k reads."""
        return k * self.down // self.up + self.half

    def _produce(self, available: int) -> np.ndarray:
        """Outputs from `emitted` on that read only inputs below `available`."""
        stop = min(
            self.out_frames, max(0, ((available - self.half) * self.up - 1) // self.down + 1)
        )
        out = (
            self._convolve(self.emitted, stop - self.emitted)
            if stop > self.emitted
            else self._empty()
        )
        self.emitted = max(self.emitted, stop)
        # Keep only what the next output still reads.
        keep_from = self.emitted * self.down // self.up - self.half + 1
        if keep_from > self.buf_start:
            self.buf = self.buf[:, keep_from - self.buf_start :]
            self.buf_start = keep_from
        return out

    def _convolve(self, lo: int, count: int) -> np.ndarray:
        out = np.empty((self.channels, count), dtype=np.float32)
        windows = sliding_window_view(self.buf, 2 * self.half, axis=1)  # (channels, i, taps)
        if count >= 8 * self.up:
            # Outputs lo+r, lo+r+up, ... share a filter phase and step `down` inputs apart:
            # one strided matrix-vector product per phase.
            for r in range(self.up):
                num = (lo + r) * self.down
                first = num // self.up - self.half + 1 - self.buf_start
                n = len(range(r, count, self.up))
                out[:, r :: self.up] = (
                    windows[:, first : first + (n - 1) * self.down + 1 : self.down]
                    @ self.bank[num % self.up]
                )
        else:  # many phases (rates with a small common divisor): gather per output
            for a in range(0, count, 4096):
                num = np.arange(lo + a, lo + min(a + 4096, count)) * self.down
                rows = windows[:, num // self.up - self.half + 1 - self.buf_start]
                out[:, a : a + num.size] = np.einsum("cnt,nt->cn", rows, self.bank[num % self.up])
        return out

    def _empty(self) -> np.ndarray:
        return np.zeros((self.channels, 0), dtype=np.float32)


def resampled_length(frames: int, source_rate: int, target_rate: int) -> int:
    """Frames after resampling, rounded up so no input sample is lost."""
    return -(-frames * int(target_rate) // int(source_rate))


def _filter_bank(up: int, down: int) -> tuple[np.ndarray, int]:
    """[up, 2*half] float32 taps: row p is the kernel for output position fraction p/up."""
    scale = min(1.0, up / down)  # cutoff relative to the input's Nyquist frequency
    cutoff = _ROLLOFF * scale
    half = int(np.ceil(_ZERO_CROSSINGS / scale))
    offsets = np.arange(-half + 1, half + 1)
    frac = np.arange(up)[:, None] / up
    t = frac - offsets[None, :]  # output position minus tap position, in input samples
    window = np.i0(_KAISER_BETA * np.sqrt(np.clip(1 - (t / half) ** 2, 0, None))) / np.i0(
        _KAISER_BETA
    )
    kernel = np.sinc(cutoff * t) * window
    kernel /= kernel.sum(axis=1, keepdims=True)
    return kernel.astype(np.float32), half
