"""Several queries' targets of one window made into stems that share out the mixture.

Each query's target is the model's magnitude mask on the mixture's spectrum (with the
mixture's phase), so in a time-frequency bin target k holds a share m_k = |Y_k| / |X| of the
mixture. Rendered alone, two queries may both claim the same bin (speech and "people
talking" in a crowd): the stems would not add up. The partition rule, per bin of a short-time
Fourier transform: where the shares sum to more than the whole (S = sum_k m_k > 1), every
target's bin is scaled by 1 / S, so together they claim exactly the mixture there; bins no
query over-claims are left as rendered, so a stem equals its single render wherever the
queries do not compete (the transform reconstructs exactly). The rest, what no query claimed,
is the mixture minus the stems, formed by the render at the source rate, so the stems plus
`rest` sum to the input to float rounding whatever this rule does.

The transform is scipy's FFT in float32 (2.7x numpy's float64 one here) with a periodic Hann
window of `N_FFT` and a hop of half of it (half the frames, and the cost, of a quarter hop),
inverted by overlap-add divided by the summed squared window (exact for any signal). A window
where no bin is over-claimed keeps its targets as they are, without the inverse transforms.
"""

import numpy as np
import scipy.fft

N_FFT = 1024
HOP = N_FFT // 2
_EPS = 1e-8
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def stft(signal: np.ndarray) -> np.ndarray:
    """[samples] float -> [frames, N_FFT // 2 + 1] complex, frames centred from sample 0."""
    padded = np.pad(np.asarray(signal, dtype=np.float32), (N_FFT // 2, N_FFT // 2 + HOP))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    return scipy.fft.rfft(frames * _WINDOW, axis=-1)


def istft(spectrum: np.ndarray, samples: int) -> np.ndarray:
    """The inverse of `stft` for a signal of `samples` samples."""
    frames = scipy.fft.irfft(spectrum, n=N_FFT, axis=-1) * _WINDOW
    count = frames.shape[0]
    total = (count - 1) * HOP + N_FFT
    out, norm = np.zeros(total), np.zeros(total)
    squared = _WINDOW.astype(np.float64) ** 2
    for part in range(N_FFT // HOP):  # frame j's part q lands at (j + q) * HOP
        lo = part * HOP
        out[lo : lo + count * HOP] += frames[:, lo : lo + HOP].reshape(-1)
        norm[lo : lo + count * HOP] += np.tile(squared[lo : lo + HOP], count)
    start = N_FFT // 2
    return (out[start : start + samples] / norm[start : start + samples]).astype(np.float32)


def partition(mixture: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Windows [B, S] and their targets under K queries [K, B, S] -> stems [K, B, S] whose
    shares of each bin never sum to more than the mixture's."""
    stems = np.array(targets, dtype=np.float32)
    samples = mixture.shape[-1]
    for row in range(mixture.shape[0]):
        magnitude = np.maximum(np.abs(stft(mixture[row])), _EPS)
        spectra = [stft(target[row]) for target in targets]
        claimed = sum(np.abs(spectrum) for spectrum in spectra) / magnitude
        if claimed.max() <= 1.0:
            continue
        scale = 1.0 / np.maximum(claimed, 1.0)
        for k, spectrum in enumerate(spectra):
            stems[k, row] = istft(spectrum * scale, samples)
    return stems
