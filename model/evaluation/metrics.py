"""Separation metrics, named as the literature means them.

- `SDR`: plain 10 log10(|s|² / |s - ŝ|²) (AudioSep, USS, DCASE 2024 task 9);
- `SDR-bss`: BSS-eval SDR with a 512-tap distortion filter (fast_bss_eval; the numbers
  of the CLAPSep paper, torchmetrics' `signal_distortion_ratio`): forgives any 512-tap
  linear filtering of the target;
- `SI-SDR`: scale-invariant SDR (no zero-mean, as torchmetrics' default).
Improvements (`SDRi`, `SDRi-bss`, `SI-SDRi`) subtract the mixture's score.

Silent signals (the documented rule): a signal is silent when its RMS is at or below
-100 dBFS. A silent reference makes every metric undefined: the item's scores are
None, it is flagged, and aggregates leave it out (and count it). A silent estimate (or
mixture) of a non-silent reference scores exactly what plain SDR gives it, 0 dB, in
all three metrics: the scale-invariant and BSS projections of silence are 0/0. Scores
are capped at ±100 dB, so a perfect estimate reports 100 dB instead of infinity.
"""

import math

import fast_bss_eval
import numpy as np

SILENCE_DBFS = -100.0
CAP_DB = 100.0
BSS_TAPS = 512
METRICS = ("SDR", "SDR-bss", "SI-SDR")
IMPROVEMENTS = {"SDRi": "SDR", "SDRi-bss": "SDR-bss", "SI-SDRi": "SI-SDR"}


def is_silent(x: np.ndarray) -> bool:
    x = np.asarray(x, dtype=np.float64)
    return x.size == 0 or float(np.mean(x**2)) <= 10.0 ** (SILENCE_DBFS / 10.0)


def _ratio_db(signal_energy: float, error_energy: float) -> float:
    if error_energy <= 0.0:
        return CAP_DB
    if signal_energy <= 0.0:
        return -CAP_DB
    return float(np.clip(10.0 * math.log10(signal_energy / error_energy), -CAP_DB, CAP_DB))


def sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    s, e = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    return _ratio_db(float(np.sum(s**2)), float(np.sum((s - e) ** 2)))


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    s, e = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    if is_silent(e):
        return sdr(estimate, reference)
    target = (np.dot(e, s) / np.dot(s, s)) * s
    return _ratio_db(float(np.sum(target**2)), float(np.sum((e - target) ** 2)))


def sdr_bss(estimate: np.ndarray, reference: np.ndarray, taps: int = BSS_TAPS) -> float:
    if is_silent(estimate):
        return sdr(estimate, reference)
    s = np.asarray(reference, np.float64)[None]
    e = np.asarray(estimate, np.float64)[None]
    value = float(fast_bss_eval.sdr(s, e, filter_length=taps)[0])
    return float(np.clip(value, -CAP_DB, CAP_DB)) if math.isfinite(value) else CAP_DB


def scores(estimate: np.ndarray, reference: np.ndarray) -> dict[str, float] | None:
    """The three metrics of one estimate; None for a silent reference."""
    if is_silent(reference):
        return None
    return {
        "SDR": sdr(estimate, reference),
        "SDR-bss": sdr_bss(estimate, reference),
        "SI-SDR": si_sdr(estimate, reference),
    }


def item_scores(
    estimate: np.ndarray, mixture: np.ndarray, reference: np.ndarray
) -> dict[str, float | None]:
    """Scores of the estimate and the improvements over the mixture (None when undefined)."""
    est, mix = scores(estimate, reference), scores(mixture, reference)
    if est is None or mix is None:
        return {name: None for name in (*METRICS, *IMPROVEMENTS)}
    return {**est, **{name: est[base] - mix[base] for name, base in IMPROVEMENTS.items()}}
