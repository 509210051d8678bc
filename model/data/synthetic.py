"""Generated audio in the corpus layouts, for tests and the CPU debug config.

Four clearly different sound families (steady tones, noise bursts, click trains, chirps)
written as 32 kHz WAVs with a corpus-style `clips.csv` (single sources, train/val split)
and an AudioCaps-style `mixtures.csv` of two-family natural mixtures with captions.
"""

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from clapsep.model.configs import SEPARATION_RATE

FAMILIES = {
    "tone": "a steady tone",
    "noise": "a burst of noise",
    "clicks": "a train of clicks",
    "chirp": "a rising chirp",
}


def synth(family: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * SEPARATION_RATE)) / SEPARATION_RATE
    if family == "tone":
        wave = np.sin(2 * np.pi * rng.uniform(200, 900) * t)
    elif family == "noise":
        wave = rng.standard_normal(len(t)) * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    elif family == "clicks":
        wave = np.zeros(len(t))
        step = int(SEPARATION_RATE / rng.uniform(8, 20))
        wave[rng.integers(step) :: step] = 1.0
        wave = np.convolve(wave, np.hanning(64), mode="same")
    else:
        f0, f1 = rng.uniform(300, 800), rng.uniform(2000, 5000)
        wave = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))
    return (0.3 * wave / (np.max(np.abs(wave)) + 1e-9)).astype(np.float32)


def write_synthetic_corpus(
    folder: Path,
    per_family: int = 6,
    seconds: float = 1.5,
    seed: int = 0,
    families: tuple[str, ...] = tuple(FAMILIES),
) -> Path:
    """Write clips, `clips.csv` and `mixtures.csv` under `folder`; returns `clips.csv`."""
    folder = Path(folder)
    chosen = {f: FAMILIES[f] for f in families}
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for family, caption in chosen.items():
        for i in range(per_family):
            rel = f"clips/{family}-{i:03d}.wav"
            sf.write(folder / rel, synth(family, seconds, rng), SEPARATION_RATE, subtype="FLOAT")
            rows.append(
                {
                    "path": rel,
                    "label": family,
                    "caption": caption if i % 2 else "",
                    "split": "val" if i == per_family - 1 else "train",
                    "group": f"{family}-{i}",
                }
            )
    with (folder / "clips.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "label", "caption", "split", "group"])
        writer.writeheader()
        writer.writerows(rows)
    names = list(chosen)
    with (folder / "mixtures.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file_name", "caption"])
        for i in range(per_family * 2):
            a, b = rng.choice(len(names), size=2, replace=False)
            wave = synth(names[a], seconds, rng) + synth(names[b], seconds, rng)
            rel = f"clips/mixture-{i:03d}.wav"
            sf.write(folder / rel, wave, SEPARATION_RATE, subtype="FLOAT")
            writer.writerow([rel, f"{chosen[names[a]]} and {chosen[names[b]]}"])
    return folder / "clips.csv"
