"""Turning one source file into training clips on disk, with pedalboard, block by block.

Two passes over each source: the first at the native rate (sample rate, peak,
full-scale count: clipping must be judged before resampling smears it, and a
clipping or silent file is rejected before anything is resampled or written), the
second through pedalboard's streaming resampler to 32 kHz mono into the segmenter.
Neither holds more than a block, so a long music track costs no more memory than a
drum hit. Clip file names derive from the source's key, so redoing a source
overwrites its own clips and nothing else.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pedalboard.io import AudioFile

from clapsep.files import replacing
from clapsep.model.corpus.filters import (
    ClipRules,
    Segmenter,
    activity_threshold_dbfs,
    clipped_count,
    db,
    near_silent,
    normalise,
)
from clapsep.model.corpus.manifest import ClipFile, Record
from clapsep.model.corpus.sources import SourceItem

BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class Scan:
    native_sr: int
    channels: int
    frames: int
    peak: float
    clipped_fraction: float


def scan(stream: BinaryIO) -> Scan:
    """Native-rate facts about a source, from one streamed read."""
    stream.seek(0)
    frames = clipped = 0
    peak = 0.0
    with AudioFile(stream) as f:  # type: ignore[arg-type]
        sr, channels = round(f.samplerate), f.num_channels
        while (block := f.read(BLOCK_FRAMES)).shape[-1]:
            frames += block.shape[-1]
            peak = max(peak, float(np.max(np.abs(block))))
            clipped += clipped_count(block)
    return Scan(sr, channels, frames, peak, clipped / max(1, frames * channels))


def mono_blocks(stream: BinaryIO, sample_rate: int) -> Iterator[np.ndarray]:
    """The source as mono float32 blocks at `sample_rate` (channel mean)."""
    stream.seek(0)
    with AudioFile(stream) as f:  # type: ignore[arg-type]
        reader = f if round(f.samplerate) == sample_rate else f.resampled_to(sample_rate)
        while (block := reader.read(BLOCK_FRAMES)).shape[-1]:
            yield block.mean(axis=0, dtype=np.float32)


def write_clip(path: Path, clip: np.ndarray, sample_rate: int) -> None:
    """Write a mono float WAV atomically (a half-written clip never looks finished)."""
    with (
        replacing(path) as temp,
        AudioFile(str(temp), "w", samplerate=sample_rate, num_channels=1, bit_depth=32) as f,
    ):
        f.write(clip.reshape(1, -1).astype(np.float32))


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    """A written clip as (samples,) float32 and its rate (for stats and tests)."""
    with AudioFile(str(path)) as f:
        return f.read(f.frames)[0], int(f.samplerate)


_UNSAFE = re.compile(r"[^A-Za-z0-9._/-]+")


def clip_stem(item: SourceItem) -> str:
    """`clips/<package>/<path without extension>`, with only portable characters."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", item.relpath)
    return f"clips/{item.package}/" + _UNSAFE.sub("_", stem).strip("_")


def process(item: SourceItem, licence: str, out: Path, rules: ClipRules) -> Record:
    """Read, check, trim, split, normalise and write one source; the record says what happened."""
    base = {
        "key": item.key,
        "package": item.package,
        "source_file": item.source_file,
        "licence": licence,
    }
    with item.open() as stream:
        info = scan(stream)
        base["native_sr"] = info.native_sr
        if info.frames == 0:
            return Record(status="skipped", reason="empty", **base)
        if info.clipped_fraction > rules.max_clipped_fraction:
            return Record(status="skipped", reason="clipping", **base)
        if db(info.peak) < rules.min_rms_dbfs:
            return Record(status="skipped", reason="silent", **base)
        threshold = activity_threshold_dbfs(info.peak, rules)
        segmenter = Segmenter(threshold, rules)
        written: list[ClipFile] = []
        for block in mono_blocks(stream, rules.sample_rate):
            _write(segmenter.push(block), item, threshold, out, rules, written)
        _write(segmenter.finish(), item, threshold, out, rules, written)
    if not written:
        return Record(status="skipped", reason="no_usable_audio", **base)
    return Record(status="ok", clips=tuple(written), **base)


def _write(
    clips: list[np.ndarray],
    item: SourceItem,
    threshold: float,
    out: Path,
    rules: ClipRules,
    written: list[ClipFile],
) -> None:
    for clip in clips:
        if near_silent(clip, rules):
            continue
        relpath = f"{clip_stem(item)}-{len(written):02d}.wav"
        write_clip(out / relpath, normalise(clip, threshold, rules), rules.sample_rate)
        written.append(ClipFile(relpath, round(len(clip) / rules.sample_rate, 3)))
