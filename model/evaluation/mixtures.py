"""Mixture lists in the published benchmark format, and rendering one item as the authors did.

The CLAPSep evaluation CSVs (`metadata/evaluation/*_eval.csv`) have the columns
`source_file,positive_caption,noise_file,negative_caption`, all at 0 dB. Two optional
columns extend that: `snr_db` (mixture SNR, default 0) and `class` (the per-class macro
mean's grouping, default the positive caption, which is the class in ESC-50/FSD/MUSIC).
A list without them is written back exactly in the published four columns. A
`noise_file` may name several files joined by `;` (mixtures of three or more sources):
they are summed, and the sum is scaled to the SNR, as training mixes its interferers.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clapsep.model.configs import SEPARATION_RATE
from clapsep.model.data.audio import load_audio
from clapsep.model.data.mixing import mix

PUBLISHED_COLUMNS = ("source_file", "positive_caption", "noise_file", "negative_caption")
NOISE_SEPARATOR = ";"


@dataclass(frozen=True)
class MixtureItem:
    source: str
    query: str
    noise: str
    negative: str | None = None
    snr_db: float = 0.0
    label: str | None = None

    @property
    def group(self) -> str:
        return self.label or self.query

    @property
    def noise_files(self) -> list[str]:
        return [name for name in self.noise.split(NOISE_SEPARATOR) if name]


def read_mixture_csv(path: Path) -> list[MixtureItem]:
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        missing = {"source_file", "positive_caption", "noise_file"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}: not a mixture list, missing column(s) {', '.join(sorted(missing))}"
            )
        return [
            MixtureItem(
                row["source_file"],
                row["positive_caption"],
                row["noise_file"],
                row.get("negative_caption") or None,
                float(row.get("snr_db") or 0.0),
                row.get("class") or None,
            )
            for row in reader
        ]


def write_mixture_csv(path: Path, items: list[MixtureItem]) -> None:
    columns = list(PUBLISHED_COLUMNS)
    if any(i.snr_db != 0.0 for i in items):
        columns.append("snr_db")
    if any(i.label for i in items):
        columns.append("class")
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for i in items:
            row = [i.source, i.query, i.noise, i.negative or ""]
            if "snr_db" in columns:
                row.append(f"{i.snr_db:g}")
            if "class" in columns:
                row.append(i.label or "")
            writer.writerow(row)


def fit_length(wave: np.ndarray, samples: int) -> np.ndarray:
    """The first `samples` samples, zero-padded when shorter (as the published evaluation)."""
    return np.pad(wave[:samples], (0, max(0, samples - len(wave))))


def render(item: MixtureItem, root: Path, seconds: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """(mixture, target) at 32 kHz: both files cut or padded to `seconds`, mixed at the item's
    SNR, and scaled to a 0.9 peak if the mixture would clip."""
    samples = round(seconds * SEPARATION_RATE)
    target = fit_length(load_audio(Path(root) / item.source, max_seconds=seconds), samples)
    noise = sum(
        fit_length(load_audio(Path(root) / name, max_seconds=seconds), samples)
        for name in item.noise_files
    )
    mixture, target, _ = mix(target, noise, item.snr_db)
    return mixture, target
