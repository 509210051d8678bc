"""The README's example clip: held-out speech over road traffic and birds, with its stems.

Built from validation clips of a corpus (source files the bundled model never trained
on), so the main command shows generalisation, not memorisation. The mixture is what an
editor would drop on a timeline (48 kHz stereo); the stems beside it are the references
the demo and the tests score against; `SOURCES.md` names every source file and licence.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from clapsep.model.data.audio import load_audio

RATE = 48_000
SECONDS = 8.0
SPEECH_LABEL, TRAFFIC_LABEL, BIRD_LABEL = "speech_male", "traffic", "bird"
SPEECH_RMS_DBFS = -23.0
TRAFFIC_BELOW_SPEECH_DB = 4.0
BIRDS_BELOW_SPEECH_DB = 2.0
GAP_SECONDS = 0.35
FADE_SECONDS = 0.25


@dataclass(frozen=True)
class Source:
    row: dict[str, str]

    @property
    def path(self) -> str:
        return self.row["path"]


def _validation_rows(corpus: Path, label: str) -> list[dict[str, str]]:
    with (corpus / "clips.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == label and r["split"] == "val"]
    if not rows:
        raise ValueError(f"{corpus} has no validation clips labelled {label!r}")
    return sorted(rows, key=lambda r: r["path"])


def _rms_db(wave: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(wave**2) + 1e-12))


def _at_level(wave: np.ndarray, dbfs: float, sounding_only: bool = False) -> np.ndarray:
    """`wave` scaled to an RMS of `dbfs`, measured over its non-zero samples if `sounding_only`
    (the level of the lines or calls, not of the gaps between them)."""
    return wave * 10 ** ((dbfs - _rms_db(wave[wave != 0] if sounding_only else wave)) / 20)


def _speech_track(corpus: Path, length: int) -> tuple[np.ndarray, list[Source]]:
    """Lines of one held-out voice, one after another with short pauses."""
    rows = _validation_rows(corpus, SPEECH_LABEL)
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    voice = max(sorted(groups), key=lambda g: len(groups[g]))
    track = np.zeros(length, np.float32)
    used, at = [], int(0.4 * RATE)
    for row in groups[voice]:
        line = load_audio(corpus / row["path"], RATE)
        if at + len(line) > length - int(0.3 * RATE):
            break
        track[at : at + len(line)] = line
        used.append(Source(row))
        at += len(line) + int(GAP_SECONDS * RATE)
    return track, used


def _looped(wave: np.ndarray, length: int) -> np.ndarray:
    """`wave` repeated with equal-power crossfades until it fills `length`."""
    fade = min(int(FADE_SECONDS * RATE), len(wave) // 4)
    ramp = np.sin(np.linspace(0, np.pi / 2, fade, dtype=np.float32)) ** 2
    out = wave.copy()
    while len(out) < length + fade:
        joined = out[-fade:] * ramp[::-1] ** 0.5 + wave[:fade] * ramp**0.5
        out = np.concatenate([out[:-fade], joined, wave[fade:]])
    return out[:length]


def _stereo(wave: np.ndarray, pan: float, delay: int = 0) -> np.ndarray:
    """Constant-power pan (-1 left .. 1 right); `delay` samples on the right widens a bed."""
    angle = (pan + 1) * np.pi / 4
    right = np.roll(wave, delay) if delay else wave
    return np.stack([np.cos(angle) * wave, np.sin(angle) * right])


def build_example(corpus: Path, out: Path) -> dict:
    """Write mixture.wav, speech.wav, traffic.wav, birds.wav and SOURCES.md into `out`."""
    corpus, out = Path(corpus), Path(out)
    length = int(SECONDS * RATE)
    speech, speech_sources = _speech_track(corpus, length)
    traffic_row = _validation_rows(corpus, TRAFFIC_LABEL)[0]
    traffic = _looped(load_audio(corpus / traffic_row["path"], RATE), length)
    birds = np.zeros(length, np.float32)
    bird_sources = []
    for row, start in zip(_validation_rows(corpus, BIRD_LABEL), (1.2, 3.6, 5.9), strict=False):
        call = load_audio(corpus / row["path"], RATE)[: length - int(start * RATE)]
        birds[int(start * RATE) : int(start * RATE) + len(call)] += call
        bird_sources.append(Source(row))
    speech = _at_level(speech, SPEECH_RMS_DBFS, sounding_only=True)
    traffic = _at_level(traffic, SPEECH_RMS_DBFS - TRAFFIC_BELOW_SPEECH_DB)
    birds = _at_level(birds, SPEECH_RMS_DBFS - BIRDS_BELOW_SPEECH_DB, sounding_only=True)
    stems = {
        "speech": _stereo(speech, 0.0),
        "traffic": _stereo(traffic, -0.2, delay=int(0.011 * RATE)),
        "birds": _stereo(birds, 0.6),
    }
    mixture = sum(stems.values())
    peak = float(np.abs(mixture).max())
    scale = min(1.0, 0.89 / peak)  # at most -1 dBFS
    out.mkdir(parents=True, exist_ok=True)
    for name, wave in {"mixture": mixture, **stems}.items():
        with AudioFile(
            str(out / f"{name}.wav"), "w", samplerate=RATE, num_channels=2, bit_depth=16
        ) as f:
            f.write((wave * scale).astype(np.float32))
    sources = {"speech": speech_sources, "traffic": [Source(traffic_row)], "birds": bird_sources}
    (out / "SOURCES.md").write_text(_sources_text(sources), encoding="utf-8")
    summary = {name: [s.path for s in group] for name, group in sources.items()}
    (out / "example.json").write_text(
        json.dumps({"seconds": SECONDS, "rate": RATE, "sources": summary}, indent=2),
        encoding="utf-8",
    )
    return summary


def _sources_text(sources: dict[str, list[Source]]) -> str:
    lines = [
        "# Sources of the example clip",
        "",
        "Built by `clapsep corpus example` from validation clips of the corpus (source files the",
        "bundled model was not trained on). Each stem keeps the licence of its source files:",
        "",
        "| stem | Debian package | source file | licence |",
        "| --- | --- | --- | --- |",
    ]
    for stem, group in sources.items():
        lines += [
            f"| {stem} | {s.row['source_package']} | `{s.row['source_file']}` "
            f"| {s.row['licence']} |"
            for s in group
        ]
    return "\n".join(lines) + "\n"
