"""Torch vs onnxruntime parity on real-looking audio, for tests, `export --check` and bench.

The test signal is `export.signals.realistic_signal` (noise alone hides errors that only
show on structured signals). The separator is compared at a
full window and at an odd shorter length (the last window of a file), through the
runtime's own `Separator` and `QueryEncoder` so the tokenizer file is checked too; each
batch of windows is encoded once and decoded under two conditions, the reuse the
encoder/decoder pair exists for, and each result is held to torch's `CLAPSep.forward`. A
package with an off-query noise graph is checked the same way through `NoiseEstimator`.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from clapsep.host.runtime import NoiseEstimator, QueryEncoder, QuerySpec, Separator, load_package
from clapsep.host.runtime.package import ModelPackage
from clapsep.model.clap import fit_query_audio
from clapsep.model.condition import Query
from clapsep.model.separator import CLAPSep
from clapsep.signals import cosine, realistic_signal, snr_db

SNR_THRESHOLD_DB = 60.0
COSINE_THRESHOLD = 0.9999
# A compact package (float16 weights, int8 text token table) is held to these instead.
COMPACT_SNR_THRESHOLD_DB = 50.0
COMPACT_COSINE_THRESHOLD = 0.999
QUERY_TEXTS = ("a dog barks in the distance", "piano notes over soft background noise")


def separator_parity(model: CLAPSep, separator: Separator, condition: np.ndarray) -> float:
    """Lowest SNR (dB) between torch and onnxruntime over a full and a short odd window,
    each batch encoded once and decoded under its conditions and under others (each
    condition reversed: as long, and a different query)."""
    worst = np.inf
    for mixture, cond in _parity_windows(separator.package, condition):
        encoded = separator.encode(mixture)
        for rows in (cond, np.ascontiguousarray(cond[:, ::-1])):
            worst = min(worst, _worst_snr(model, mixture, rows, separator.decode(encoded, rows)))
    return worst


def noise_parity(noise: torch.nn.Module, estimator: NoiseEstimator, condition: np.ndarray) -> float:
    """`separator_parity` for the off-query noise (`model.noise.OffQueryNoise`)."""
    return window_parity(noise, estimator.estimate, estimator.package, condition)


def window_parity(
    module: torch.nn.Module,
    run: Callable[[np.ndarray, np.ndarray], np.ndarray],
    package: ModelPackage,
    condition: np.ndarray,
) -> float:
    """Lowest SNR (dB) between `module` (torch) and `run` (onnxruntime) on the same windows."""
    return min(
        _worst_snr(module, mixture, cond, run(mixture, cond))
        for mixture, cond in _parity_windows(package, condition)
    )


def _parity_windows(
    package: ModelPackage, condition: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(windows, conditions): two full windows under two conditions, and one odd short one."""
    window, rate = package.window_samples, package.sample_rate
    full = realistic_signal(window / rate + 0.01, rate)[:window]
    batch = np.stack([full, 0.5 * full[::-1].copy()])
    conditions = np.stack([condition, condition[::-1].copy() / np.linalg.norm(condition)])
    return [(batch, conditions), (full[None, :100001], condition[None])]


def _worst_snr(
    module: torch.nn.Module, mixture: np.ndarray, condition: np.ndarray, got: np.ndarray
) -> float:
    """Lowest SNR (dB) over the rows of `got` against `module(mixture, condition)` in torch."""
    with torch.no_grad():
        expected = module(
            torch.from_numpy(mixture), torch.from_numpy(condition.astype(np.float32))
        ).numpy()
    return min(snr_db(e, g) for e, g in zip(expected, got, strict=True))


def _write_wave(path: Path, wave: np.ndarray, rate: int) -> None:
    from pedalboard.io import AudioFile

    with AudioFile(str(path), "w", samplerate=rate, num_channels=1, bit_depth=32) as f:
        f.write(wave[None])


def check_package(
    model: CLAPSep, package_dir: Path, noise: torch.nn.Module | None = None
) -> dict[str, Any]:
    """Parity numbers of an exported package against its torch model (CPU sessions).

    `model.tokenizer` must be the tokenizer that was written into the package. With
    `noise` (the source's `OffQueryNoise`) the package's noise graph is checked too.
    """
    package = load_package(package_dir)
    encoder = QueryEncoder(package, device="cpu")
    text_cos = []
    for text in QUERY_TEXTS:
        ids, mask = model.clap.tokenize(model.tokenizer, [text])
        with torch.no_grad():
            expected = model.clap.text_embedding(ids, mask)[0].numpy()
        text_cos.append(cosine(expected, encoder.text_embedding(text)))
    shot = realistic_signal(7.3, package.query_sample_rate, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        shot_path = Path(tmp) / "shot.wav"
        _write_wave(shot_path, shot, package.query_sample_rate)
        got_audio = encoder.audio_embedding(shot_path)
        condition = encoder.condition(
            QuerySpec(QUERY_TEXTS[0], (shot_path,)), QuerySpec(QUERY_TEXTS[1])
        )
    with torch.no_grad():
        expected_audio = model.clap.audio_embedding(fit_query_audio(torch.from_numpy(shot))[None])[
            0
        ].numpy()
        expected_condition = model.condition(
            Query(QUERY_TEXTS[0], [torch.from_numpy(shot)]), Query(QUERY_TEXTS[1])
        )[0].numpy()
    snr = separator_parity(model, Separator(package, device="cpu"), condition)
    report = {
        "separator_snr_db": snr,
        "text_cosine": min(text_cos),
        "audio_cosine": cosine(expected_audio, got_audio),
        "condition_cosine": cosine(expected_condition, condition),
    }
    if noise is not None:
        report["noise_snr_db"] = noise_parity(
            noise, NoiseEstimator(package, device="cpu"), condition
        )
    compact = "storage" in package.manifest
    snr_floor, cosine_floor = (
        (COMPACT_SNR_THRESHOLD_DB, COMPACT_COSINE_THRESHOLD)
        if compact
        else (SNR_THRESHOLD_DB, COSINE_THRESHOLD)
    )
    report["passed"] = (
        min(snr, report.get("noise_snr_db", snr)) >= snr_floor
        and min(report[k] for k in ("text_cosine", "audio_cosine", "condition_cosine"))
        >= cosine_floor
    )
    return report
