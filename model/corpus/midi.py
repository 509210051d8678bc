"""Short random musical phrases, written as Standard MIDI Files.

Instrument clips are General MIDI programs rendered from generated phrases, so every
phrase must sound like something a player could play on that instrument: notes from
one key and scale inside the instrument's range, rhythms that fill whole bars, and a
style per instrument (block chords, broken chords, a melody, a bass line, held pads,
a drum groove). Rests stay under half a second so the silence trimmer keeps a phrase
whole; phrases are separated by long rests so it cuts between them.

The writer is a few lines of struct packing (format 0, one track): not worth a
dependency. Times are in seconds at a fixed 120 bpm (960 ticks per second).
"""

import random
import struct
from dataclasses import dataclass, replace

TICKS_PER_SECOND = 960
_TICKS_PER_BEAT = 480
_TEMPO_US_PER_BEAT = 500_000
DRUM_CHANNEL = 9

_SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
}
_PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (5, 3, 0, 4), (0, 3, 0, 4), (1, 4, 0, 0))
STYLES = ("melody", "chords", "arpeggio", "bass", "pad", "power", "drums")


@dataclass(frozen=True)
class Note:
    start: float  # seconds
    duration: float
    pitch: int
    velocity: int
    channel: int = 0


def vlq(value: int) -> bytes:
    """MIDI variable-length quantity: 7 bits per byte, high bit set on all but the last."""
    out = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        out.append(0x80 | (value & 0x7F))
    return bytes(reversed(out))


def midi_file(notes: list[Note], program: int, channel: int = 0) -> bytes:
    """A format-0 Standard MIDI File playing `notes` with `program` selected on `channel`."""
    events: list[tuple[int, int, bytes]] = [
        (0, 0, b"\xff\x51\x03" + _TEMPO_US_PER_BEAT.to_bytes(3, "big")),
        (0, 0, bytes((0xC0 | channel, program & 0x7F))),
        (0, 0, bytes((0xB0 | channel, 7, 100))),  # channel volume
    ]
    for n in notes:
        on = round(n.start * TICKS_PER_SECOND)
        off = max(on + 1, round((n.start + n.duration) * TICKS_PER_SECOND))
        events.append(
            (on, 2, bytes((0x90 | n.channel, n.pitch & 0x7F, max(1, min(127, n.velocity)))))
        )
        events.append((off, 1, bytes((0x80 | n.channel, n.pitch & 0x7F, 0))))
    events.sort(key=lambda e: (e[0], e[1]))  # note-offs before note-ons at the same tick
    track = bytearray()
    now = 0
    for tick, _, data in events:
        track += vlq(tick - now) + data
        now = tick
    track += vlq(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, _TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def phrase(
    rng: random.Random, style: str, low: int, high: int, start: float, max_s: float
) -> list[Note]:
    """One phrase of whole bars, at most `max_s` long, starting at `start` seconds."""
    beat = 60.0 / rng.uniform(72.0, 140.0)
    bars = max(1, min(4, int(max_s // (4 * beat))))
    if style == "drums":
        return _groove(rng, beat, bars, start)
    root = rng.randrange(12)
    scale = rng.choice(list(_SCALES.values()))
    pool = [p for p in range(low, high + 1) if (p - root) % 12 in scale]
    degrees = rng.choice(_PROGRESSIONS)
    notes: list[Note] = []
    for bar in range(bars):
        t0 = start + bar * 4 * beat
        chord = _chord(pool, scale, root, degrees[bar % len(degrees)], high, rng)
        if style == "melody":
            notes += _melody(rng, pool, t0, beat, notes[-1].pitch if notes else None)
        elif style == "bass":
            hits = rng.choice(
                ((0, 1, 2, 3), (0, 2, 3), (0, 1, 2), (0, 1.5, 2, 3), (0, 0.5, 1, 2, 3))
            )
            ends = (*hits[1:], 4)
            notes += [
                Note(t0 + h * beat, (e - h) * beat * 0.9, chord[0], rng.randint(70, 105))
                for h, e in zip(hits, ends, strict=True)
            ]
        elif style == "pad":
            notes += [Note(t0, 4 * beat, p, rng.randint(60, 90)) for p in chord]
        elif style == "arpeggio":
            notes += [
                Note(t0 + i * beat / 2, beat / 2, chord[i % len(chord)], rng.randint(60, 100))
                for i in range(8)
            ]
        elif style == "power":
            hits = (0, 1.5, 2, 3) if rng.random() < 0.5 else (0, 1, 2, 3)
            fifth = [chord[0], chord[0] + 7]  # a power chord: root and fifth
            notes += [
                Note(t0 + h * beat, beat * 0.45, p, rng.randint(80, 115))
                for h in hits
                for p in fifth
            ]
        else:  # chords
            hits = rng.choice(((0, 2), (0, 1, 2, 3), (0, 1.5, 3)))
            notes += [
                Note(t0 + h * beat, beat * 1.4, p, rng.randint(55, 100))
                for h in hits
                for p in chord
            ]
    end = start + bars * 4 * beat  # nothing rings past the last bar
    return [replace(n, duration=min(n.duration, end - n.start)) for n in notes]


def _chord(
    pool: list[int], scale: tuple[int, ...], root: int, degree: int, high: int, rng: random.Random
) -> list[int]:
    """A triad on `degree` of the scale, rooted in the lower half of the range, lowest note
    first."""
    classes = [(root + scale[(degree + k) % len(scale)]) % 12 for k in (0, 2, 4)]
    bases = [p for p in pool if p % 12 == classes[0] and p + 7 <= high] or pool[:1]
    chord = [rng.choice(bases[: max(1, (len(bases) + 1) // 2)])]
    for pitch_class in classes[1:]:
        above = [p for p in pool if p > chord[-1] and p % 12 == pitch_class]
        if above and above[0] <= high:
            chord.append(above[0])
    return chord


def _melody(
    rng: random.Random, pool: list[int], t0: float, beat: float, last: int | None
) -> list[Note]:
    index = pool.index(last) if last in pool else rng.randrange(len(pool))
    notes, t = [], 0.0
    while t < 4.0:
        length = min(rng.choice((0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0)), 4.0 - t)
        if rng.random() < 0.12 and length <= 1.0 and beat * length <= 0.5:
            t += length  # a short rest
            continue
        index = min(max(index + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3)), 0), len(pool) - 1)
        notes.append(Note(t0 + t * beat, length * beat * 0.95, pool[index], rng.randint(60, 105)))
        t += length
    return notes


def _groove(rng: random.Random, beat: float, bars: int, start: float) -> list[Note]:
    """A rock/pop style kit groove with hats in eighths or sixteenths and an optional fill."""
    kick, snare, closed_hat, open_hat, crash, ride = 36, 38, 42, 46, 49, 51
    hat = rng.choice((closed_hat, closed_hat, ride))
    subdivision = rng.choice((2, 4))
    kicks = rng.choice(((0, 2), (0, 2.5), (0, 1.5, 2), (0, 0.75, 2, 2.5)))
    notes = [Note(start, beat, crash, 110, DRUM_CHANNEL)]
    for bar in range(bars):
        t0 = start + bar * 4 * beat
        fill = bar == bars - 1 and rng.random() < 0.5
        for i in range(4 * subdivision):
            pos = i / subdivision
            if fill and pos >= 3:
                notes.append(
                    Note(
                        t0 + pos * beat,
                        beat / 4,
                        rng.choice((45, 47, 48, 50, snare)),
                        100,
                        DRUM_CHANNEL,
                    )
                )
                continue
            pitch = open_hat if hat == closed_hat and pos == 3.5 and rng.random() < 0.3 else hat
            notes.append(
                Note(
                    t0 + pos * beat,
                    beat / 4,
                    pitch,
                    70 + (20 if i % subdivision == 0 else 0),
                    DRUM_CHANNEL,
                )
            )
            if pos in kicks:
                notes.append(
                    Note(t0 + pos * beat, beat / 4, kick, rng.randint(95, 120), DRUM_CHANNEL)
                )
            if pos in (1, 3):
                notes.append(
                    Note(t0 + pos * beat, beat / 4, snare, rng.randint(90, 120), DRUM_CHANNEL)
                )
    return notes


def phrases(
    rng: random.Random,
    style: str,
    low: int,
    high: int,
    count: int,
    max_s: float = 9.0,
    gap_s: float = 2.5,
) -> list[Note]:
    """`count` phrases one after another, `gap_s` of silence between them."""
    notes: list[Note] = []
    t = 0.5
    for _ in range(count):
        notes += phrase(rng, style, low, high, t, max_s)
        t = max(n.start + n.duration for n in notes) + gap_s
    return notes
