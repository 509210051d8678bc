"""Generated MIDI: the file format, playable phrases, and a real fluidsynth render."""

import itertools
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from clapsep.model.corpus.clips import read_clip
from clapsep.model.corpus.instruments import DRUM_KITS, VOICES, fluidsynth_available, render_midi
from clapsep.model.corpus.midi import (
    DRUM_CHANNEL,
    STYLES,
    TICKS_PER_SECOND,
    midi_file,
    phrase,
    phrases,
    vlq,
)
from clapsep.model.corpus.vocabulary import LABELS

TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def parse_events(data: bytes) -> list[tuple[int, bytes]]:
    """(absolute tick, event bytes) of a format-0 file, enough to check what the writer wrote."""
    assert data[:4] == b"MThd" and struct.unpack(">IHHH", data[4:14]) == (6, 0, 1, 480)
    assert data[14:18] == b"MTrk"
    (length,) = struct.unpack(">I", data[18:22])
    track, pos, tick, events = data[22:], 0, 0, []
    assert len(track) == length
    while pos < len(track):
        delta = 0
        while True:
            byte = track[pos]
            pos += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        if track[pos] == 0xFF:
            size = track[pos + 2]
            events.append((tick, track[pos : pos + 3 + size]))
            pos += 3 + size
        else:
            size = 2 if track[pos] >> 4 in (0xC, 0xD) else 3
            events.append((tick, track[pos : pos + size]))
            pos += size
    return events


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (0x7F, b"\x7f"),
        (0x80, b"\x81\x00"),
        (0x3FFF, b"\xff\x7f"),
        (0x4000, b"\x81\x80\x00"),
    ],
)
def test_variable_length_quantities(value: int, encoded: bytes) -> None:
    assert vlq(value) == encoded


def test_written_file_plays_the_notes_on_the_channel() -> None:
    notes = phrase(random.Random(1), "chords", 48, 72, 0.5, 9.0)
    events = parse_events(midi_file(notes, program=19))
    ons = [e for _, e in events if e[0] >> 4 == 0x9]
    offs = [e for _, e in events if e[0] >> 4 == 0x8]
    assert len(ons) == len(offs) == len(notes)
    assert (0, bytes((0xC0, 19))) in events
    assert events[-1][1] == b"\xff\x2f\x00"
    first_on = min(t for t, e in events if e[0] >> 4 == 0x9)
    assert first_on == round(0.5 * TICKS_PER_SECOND)


@pytest.mark.parametrize("style", STYLES)
def test_phrases_stay_in_range_fill_bars_and_keep_rests_short(style: str) -> None:
    rng = random.Random(7)
    for _ in range(20):
        notes = phrase(rng, style, 40, 76, 0.0, 9.0)
        assert notes and max(n.start + n.duration for n in notes) <= 9.0 * 1.01
        if style != "drums":
            assert all(40 <= n.pitch <= 83 for n in notes)  # a power chord's fifth may pass the top
        spans = sorted((n.start, n.start + n.duration) for n in notes)
        end = spans[0][1]
        for start, stop in spans[1:]:
            assert start - end < 1.0  # the silence trimmer keeps the phrase in one clip
            end = max(end, stop)


def test_phrases_are_separated_by_a_long_rest() -> None:
    notes = phrases(random.Random(0), "melody", 60, 84, count=3, gap_s=2.5)
    onsets = sorted(n.start for n in notes)
    gaps = [b - a for a, b in itertools.pairwise(onsets)]
    assert sum(g > 2.5 for g in gaps) == 2


def test_voice_table_uses_known_labels_and_valid_programs() -> None:
    for voice in VOICES + DRUM_KITS:
        assert voice.label in LABELS and 0 <= voice.program < 128 and voice.low < voice.high
        assert voice.style in STYLES
    assert len({v.program for v in VOICES}) == len(VOICES)


@pytest.mark.skipif(
    not (fluidsynth_available() and TIMGM.exists()),
    reason="needs fluidsynth and timgm6mb-soundfont "
    "(apt-get install fluidsynth timgm6mb-soundfont)",
)
@pytest.mark.parametrize(
    ("program", "channel", "style"), [(0, 0, "chords"), (0, DRUM_CHANNEL, "drums")]
)
def test_fluidsynth_renders_audible_32k_audio(
    tmp_path: Path, program: int, channel: int, style: str
) -> None:
    notes = phrase(random.Random(2), style, 48, 72, 0.2, 4.0)
    out = tmp_path / "render.wav"
    render_midi(str(TIMGM), midi_file(notes, program, channel), out)
    audio, sr = read_clip(out)
    assert sr == 32000
    assert float(np.sqrt(np.mean(audio**2))) > 1e-3
