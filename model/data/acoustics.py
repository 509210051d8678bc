"""How dialogue reaches an editor: rooms, telephones and level rides, applied to a source.

Recorded speech in a corpus is mostly close and dry; production dialogue is often
distant (a room's reverberation is part of the voice), band-limited (phone and radio
inserts) and ridden in level. Each condition is a pure function of an explicit
`np.random.Generator`, so a training item stays a function of its seed. The separated
target is the source *as it arrives* (reverberant, band-limited): what an editor wants
kept as dialogue, not a de-reverberated voice.

Rooms are shoebox image-source simulations (pyroomacoustics), drawn once per bank and
reused, since one simulation costs far more than applying it.
"""

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, fftconvolve, sosfilt

from clapsep.model.configs import SEPARATION_RATE

ROOM_BANK_SIZE = 64
_RT60_RANGE = (0.2, 0.9)  # seconds: a treated studio corner to a hall-like living room
_ROOM_DIMS = ((3.0, 9.0), (3.0, 7.0), (2.4, 3.5))  # metres: length, width, height


@dataclass(frozen=True)
class Conditions:
    """Chances per source (each drawn independently); all 0 leaves sources as recorded."""

    reverb_prob: float = 0.0
    telephone_prob: float = 0.0
    level_ride_prob: float = 0.0
    level_ride_db: float = 6.0  # peak deviation of a ride, in dB either way

    @property
    def active(self) -> bool:
        return self.reverb_prob > 0 or self.telephone_prob > 0 or self.level_ride_prob > 0


def room_impulse(rng: np.random.Generator, rate: int = SEPARATION_RATE) -> np.ndarray:
    """The impulse response from a talker to a microphone in a random shoebox room, peak 1."""
    import pyroomacoustics as pra

    dims = np.array([rng.uniform(lo, hi) for lo, hi in _ROOM_DIMS])
    rt60 = float(rng.uniform(*_RT60_RANGE))
    absorption, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(
        dims, fs=rate, materials=pra.Material(absorption), max_order=min(max_order, 12)
    )
    margin = 0.5
    talker = np.array([rng.uniform(margin, d - margin) for d in dims[:2]] + [rng.uniform(1.2, 1.8)])
    mic = np.array([rng.uniform(margin, d - margin) for d in dims[:2]] + [rng.uniform(0.8, 2.0)])
    room.add_source(talker)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    return (rir / (np.max(np.abs(rir)) + 1e-12)).astype(np.float32)


class RoomBank:
    """`ROOM_BANK_SIZE` rooms drawn from one seed, made on first use."""

    def __init__(self, seed: int, size: int = ROOM_BANK_SIZE) -> None:
        self.seed, self.size = seed, size
        self._rooms: list[np.ndarray] | None = None

    def pick(self, rng: np.random.Generator) -> np.ndarray:
        if self._rooms is None:
            bank = np.random.default_rng([self.seed, 7])
            self._rooms = [room_impulse(bank) for _ in range(self.size)]
        return self._rooms[int(rng.integers(self.size))]


def reverberate(wave: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """`wave` through the room, same length and the same energy (the SNR is set later)."""
    wet = fftconvolve(wave, rir)[: len(wave)]
    energy = float(np.sum(wave.astype(np.float64) ** 2))
    wet_energy = float(np.sum(wet**2))
    if wet_energy <= 1e-20:
        return wave
    return (wet * np.sqrt(energy / wet_energy)).astype(np.float32)


def telephone(
    wave: np.ndarray, rng: np.random.Generator, rate: int = SEPARATION_RATE
) -> np.ndarray:
    """A phone or radio insert: mild saturation, then the line's band-pass around 300-3400 Hz
    (edges drawn); the band limit comes last, so no distortion product falls outside it."""
    drive = float(rng.uniform(1.0, 3.0))
    peak = float(np.max(np.abs(wave))) or 1.0
    driven = np.tanh(drive * wave / peak) * peak / np.tanh(drive)
    low = float(rng.uniform(200.0, 400.0))
    high = float(rng.uniform(3000.0, 4000.0))
    sos = butter(4, [low, high], btype="bandpass", fs=rate, output="sos")
    return sosfilt(sos, driven).astype(np.float32)


def level_ride(
    wave: np.ndarray, rng: np.random.Generator, depth_db: float, rate: int = SEPARATION_RATE
) -> np.ndarray:
    """A slow gain envelope (moves every 0.5-2 s, smooth), within +-`depth_db`; never clips
    on its own, since `mixing.mix` applies the peak rule afterwards."""
    step = int(rng.uniform(0.5, 2.0) * rate)
    points = len(wave) // step + 2
    gains_db = rng.uniform(-depth_db, depth_db, points)
    curve = np.interp(np.arange(len(wave)), np.arange(points) * step, gains_db)
    return (wave * 10.0 ** (curve / 20.0)).astype(np.float32)


def apply(
    wave: np.ndarray, conditions: Conditions, rooms: RoomBank, rng: np.random.Generator
) -> np.ndarray:
    """Each condition with its own chance, in the order the signal meets them:
    the room, then the phone line, then the mixer's fader."""
    if conditions.reverb_prob > 0 and rng.random() < conditions.reverb_prob:
        wave = reverberate(wave, rooms.pick(rng))
    if conditions.telephone_prob > 0 and rng.random() < conditions.telephone_prob:
        wave = telephone(wave, rng)
    if conditions.level_ride_prob > 0 and rng.random() < conditions.level_ride_prob:
        wave = level_ride(wave, rng, conditions.level_ride_db)
    return wave
