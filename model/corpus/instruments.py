"""Instrument and drum-kit clips rendered from generated MIDI with a General MIDI SoundFont.

Recorded instruments are scarce in the allowed packages, so each chosen GM program is
played a few random phrases (`midi.py`) and rendered by the fluidsynth CLI, one file
per (SoundFont, program). The CLI rather than the PyPI `tinysoundfont`: it ships in
the same Debian archive as the SoundFonts, adds no Python dependency, renders at
32 kHz directly, and a render is ~0.6 s, so in-process rendering would buy nothing.
Renders are quiet (peaks near -20 dBFS); the builder normalises them like any clip.

A (SoundFont, program) render is one split group, so a validation instrument is a
timbre the model never trained on, even though the other SoundFont's version of the
same program may be in training.
"""

import contextlib
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from clapsep.model.corpus.midi import DRUM_CHANNEL, midi_file, phrases
from clapsep.model.corpus.packages import Package
from clapsep.model.corpus.rules import Entry
from clapsep.model.corpus.sources import SourceItem


@dataclass(frozen=True)
class Voice:
    program: int
    label: str
    low: int  # MIDI note range played
    high: int
    style: str  # see midi.STYLES
    what: str = ""


VOICES: tuple[Voice, ...] = (
    Voice(0, "piano", 36, 96, "chords"),
    Voice(1, "piano", 40, 96, "melody"),
    Voice(3, "piano", 40, 88, "arpeggio"),
    Voice(4, "electric_piano", 40, 88, "chords"),
    Voice(5, "electric_piano", 40, 88, "arpeggio"),
    Voice(6, "harpsichord", 41, 89, "arpeggio"),
    Voice(8, "mallet_percussion", 60, 96, "melody", "celesta"),
    Voice(9, "mallet_percussion", 72, 100, "melody", "glockenspiel"),
    Voice(10, "mallet_percussion", 60, 96, "arpeggio", "music box"),
    Voice(11, "mallet_percussion", 53, 89, "chords", "vibraphone"),
    Voice(12, "mallet_percussion", 48, 84, "melody", "marimba"),
    Voice(13, "mallet_percussion", 65, 96, "melody", "xylophone"),
    Voice(14, "bells", 60, 77, "melody"),
    Voice(16, "organ", 36, 84, "chords"),
    Voice(17, "organ", 36, 84, "chords"),
    Voice(18, "organ", 36, 84, "pad"),
    Voice(19, "organ", 36, 84, "pad"),
    Voice(20, "organ", 48, 84, "pad"),
    Voice(21, "accordion", 53, 89, "chords"),
    Voice(23, "accordion", 53, 89, "melody"),
    Voice(22, "harmonica", 60, 84, "melody"),
    Voice(24, "guitar", 40, 76, "arpeggio"),
    Voice(25, "guitar", 40, 76, "chords"),
    Voice(26, "guitar", 40, 79, "melody"),
    Voice(27, "guitar", 40, 79, "chords"),
    Voice(29, "distorted_guitar", 40, 64, "power"),
    Voice(30, "distorted_guitar", 40, 76, "melody"),
    Voice(32, "bass", 28, 55, "bass"),
    Voice(33, "bass", 28, 55, "bass"),
    Voice(34, "bass", 28, 55, "bass"),
    Voice(35, "bass", 28, 55, "melody"),
    Voice(38, "bass", 28, 55, "bass"),
    Voice(39, "bass", 28, 55, "bass"),
    Voice(40, "violin", 55, 96, "melody"),
    Voice(42, "cello", 36, 76, "melody"),
    Voice(41, "strings", 48, 84, "melody"),
    Voice(43, "strings", 28, 60, "bass"),
    Voice(44, "strings", 48, 84, "pad"),
    Voice(45, "strings", 40, 84, "arpeggio"),
    Voice(48, "strings", 40, 88, "pad"),
    Voice(49, "strings", 40, 88, "chords"),
    Voice(46, "harp", 36, 96, "arpeggio"),
    Voice(47, "timpani", 40, 55, "bass"),
    Voice(52, "choir", 48, 79, "pad"),
    Voice(53, "choir", 48, 79, "pad"),
    Voice(56, "trumpet", 55, 82, "melody"),
    Voice(57, "trombone", 40, 72, "melody"),
    Voice(58, "tuba", 28, 58, "bass"),
    Voice(60, "french_horn", 41, 77, "melody"),
    Voice(61, "brass_section", 48, 84, "chords"),
    Voice(64, "saxophone", 56, 87, "melody"),
    Voice(65, "saxophone", 49, 81, "melody"),
    Voice(66, "saxophone", 44, 76, "melody"),
    Voice(67, "saxophone", 36, 69, "melody"),
    Voice(68, "oboe", 58, 91, "melody"),
    Voice(69, "oboe", 52, 81, "melody"),
    Voice(70, "bassoon", 34, 72, "melody"),
    Voice(71, "clarinet", 50, 91, "melody"),
    Voice(72, "flute", 74, 102, "melody"),
    Voice(73, "flute", 60, 96, "melody"),
    Voice(74, "flute", 60, 96, "melody"),
    Voice(75, "pan_flute", 60, 96, "melody"),
    Voice(80, "synth_lead", 48, 84, "melody"),
    Voice(81, "synth_lead", 48, 84, "melody"),
    Voice(88, "synth_pad", 48, 84, "pad"),
    Voice(89, "synth_pad", 48, 84, "pad"),
    Voice(90, "synth_pad", 48, 84, "chords"),
    Voice(95, "synth_pad", 48, 84, "pad"),
    Voice(104, "sitar", 48, 84, "melody"),
    Voice(105, "banjo", 48, 84, "arpeggio"),
)

# GM drum kits (bank 128 programs) present in both SoundFonts.
DRUM_KITS: tuple[Voice, ...] = tuple(
    Voice(program, "drum_kit", 35, 81, "drums", what)
    for program, what in (
        (0, "rock"),
        (8, "room"),
        (16, "power rock"),
        (24, "electronic"),
        (25, "808"),
        (32, "jazz"),
        (40, "brush"),
    )
)


def fluidsynth_available() -> bool:
    return shutil.which("fluidsynth") is not None


def items(package: Package, seed: int, phrases_per_voice: int = 8) -> Iterator[SourceItem]:
    """One rendered file per voice of the SoundFont, each holding `phrases_per_voice` phrases."""
    for voice in VOICES + DRUM_KITS:
        kind = "kit" if voice.style == "drums" else "program"
        relpath = f"{voice.label}/{kind}-{voice.program:03d}.mid"
        yield SourceItem(
            package.name,
            relpath,
            f"{package.root}:{relpath}",
            lambda voice=voice, relpath=relpath: _render(
                package.root, voice, f"{seed}:{package.name}:{relpath}", phrases_per_voice
            ),
            entry=Entry(voice.label, f"{package.name}:{relpath}", voice.what),
            generated=True,
        )


def render_midi(soundfont: str, midi: bytes, out: Path, sample_rate: int = 32000) -> None:
    """Render MIDI bytes to a float WAV with the fluidsynth CLI (no audio device, no shell)."""
    mid = out.with_suffix(".mid")
    mid.write_bytes(midi)
    cmd = [
        "fluidsynth",
        "-ni",
        "-q",
        "-r",
        str(sample_rate),
        "-O",
        "float",
        "-F",
        str(out),
        soundfont,
        str(mid),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"fluidsynth failed ({result.returncode}): {result.stderr.strip()[:200]}"
        )


@contextlib.contextmanager
def _render(soundfont: str, voice: Voice, seed: str, count: int) -> Iterator[BinaryIO]:
    rng = random.Random(seed)  # str seeds hash with SHA-512: the same phrases on every machine
    notes = phrases(rng, voice.style, voice.low, voice.high, count)
    channel = DRUM_CHANNEL if voice.style == "drums" else 0
    with tempfile.TemporaryDirectory(prefix="clapsep-render-") as tmp:
        out = Path(tmp) / "render.wav"
        render_midi(soundfont, midi_file(notes, voice.program, channel), out)
        with open(out, "rb") as stream:
            yield stream
