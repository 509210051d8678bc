"""The audition mix: the source (side A) and any number of named stems (side B), sample-exact.

All tracks play from one position, so switching A/B, soloing or muting a stem never
restarts anything: only the gains change, and every gain change is a short linear ramp
(`RAMP_S`), so a switch is click-free. Level match scales side B so its loudness (RMS over
the playable range) equals the source's. Knows nothing of Qt: `read(frames)` returns the
next block as (channels, frames) float32.
"""

from dataclasses import dataclass, field

import numpy as np

RAMP_S = 0.008
MATCH_LIMIT_DB = 24.0


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def rms(audio: np.ndarray, stride: int = 8) -> float:
    """RMS over all channels, on every `stride`-th frame (loudness, not an exact sum)."""
    part = audio[:, ::stride]
    return float(np.sqrt(np.mean(np.square(part, dtype=np.float64)))) if part.size else 0.0


@dataclass
class Track:
    """One file's audio, `offset` frames after the start of the playable range."""

    audio: np.ndarray  # (channels, frames) float32
    offset: int = 0
    gain_db: float = 0.0
    muted: bool = False
    soloed: bool = False


@dataclass
class _Ramp:
    value: float
    target: float
    left: int = 0


@dataclass
class Mixer:
    """Plays `frames` frames at `rate`; `position` is the next frame `read` returns."""

    rate: int
    frames: int
    channels: int = 1
    source: Track | None = None
    stems: dict[str, Track] = field(default_factory=dict)
    side: str = "A"
    level_match: bool = True
    loop: tuple[int, int] | None = None
    looping: bool = False
    position: int = 0
    _ramps: dict[str, _Ramp] = field(default_factory=dict)
    _match: float | None = None

    def tracks(self) -> dict[str, Track]:
        return ({"source": self.source} if self.source else {}) | self.stems

    def changed(self) -> None:
        """Call after changing a stem's gain, mute or solo: level match is measured again."""
        self._match = None

    def match_gain(self) -> float:
        """The gain that brings side B's loudness to the source's (1 without a source)."""
        if self._match is None:
            self._match = 1.0
            if self.source is not None and self.stems:
                mix = np.zeros((self.channels, self.frames), np.float32)
                for name, track in self.stems.items():
                    self._add(mix, track, 0, self.frames, self.stem_gain(name, matched=False))
                loud_a, loud_b = rms(self.source.audio), rms(mix)
                if loud_a > 0 and loud_b > 0:
                    limit = db_to_gain(MATCH_LIMIT_DB)
                    self._match = float(np.clip(loud_a / loud_b, 1 / limit, limit))
        return self._match

    def stem_gain(self, name: str, matched: bool = True) -> float:
        track = self.stems[name]
        soloing = any(t.soloed for t in self.stems.values())
        if track.muted or (soloing and not track.soloed):
            return 0.0
        match = self.match_gain() if matched and self.level_match else 1.0
        return db_to_gain(track.gain_db) * match

    def gains(self) -> dict[str, float]:
        """The linear gain each track is heading to on the current side."""
        gains = {"source": 1.0 if self.side == "A" else 0.0} if self.source else {}
        for name in self.stems:
            gains[name] = self.stem_gain(name) if self.side == "B" else 0.0
        return gains

    def seek(self, frame: int) -> None:
        self.position = int(np.clip(frame, 0, self.frames))

    def at_end(self) -> bool:
        return self.position >= self.frames and not self._loop_active()

    def _loop_active(self) -> bool:
        return self.looping and self.loop is not None and self.loop[1] > self.loop[0]

    def read(self, frames: int) -> np.ndarray:
        """The next `frames` frames of the mix (zeros past the end), wrapping inside the loop."""
        out = np.zeros((self.channels, frames), np.float32)
        done = 0
        while done < frames:
            stop = self.loop[1] if self._loop_active() else self.frames
            if self._loop_active() and not self.loop[0] <= self.position < stop:
                self.position = self.loop[0] if self.position >= stop else self.position
            n = min(frames - done, max(stop - self.position, 0))
            if n == 0:
                break
            self._mix_into(out[:, done : done + n], self.position)
            self.position += n
            done += n
            if self._loop_active() and self.position >= stop:
                self.position = self.loop[0]
        return out

    def _mix_into(self, out: np.ndarray, first: int) -> None:
        n = out.shape[1]
        for name, target in self.gains().items():
            ramp = self._ramps.setdefault(name, _Ramp(target, target))
            if target != ramp.target:
                ramp.target, ramp.left = target, max(1, round(RAMP_S * self.rate))
            if ramp.left:
                k = min(n, ramp.left)
                curve = np.full(n, ramp.target, np.float32)
                step = (ramp.target - ramp.value) / ramp.left
                curve[:k] = ramp.value + step * np.arange(1, k + 1)
                ramp.value, ramp.left = float(curve[k - 1]), ramp.left - k
                gain: float | np.ndarray = curve
            else:
                ramp.value = gain = ramp.target
            if np.any(gain):
                self._add(out, self.tracks()[name], first, n, gain)

    def _add(
        self, out: np.ndarray, track: Track, first: int, n: int, gain: float | np.ndarray
    ) -> None:
        """Add `track` frames [first, first + n) of the range (scaled by `gain`) into `out`."""
        lo, hi = max(first, track.offset), min(first + n, track.offset + track.audio.shape[1])
        if hi <= lo:
            return
        part = track.audio[:, lo - track.offset : hi - track.offset]
        g = gain if np.isscalar(gain) else np.asarray(gain)[lo - first : hi - first]
        out[:, lo - first : hi - first] += (
            part * g
            if part.shape[0] == out.shape[0]
            else (np.broadcast_to(part[:1], (out.shape[0], hi - lo)) * g)
        )
