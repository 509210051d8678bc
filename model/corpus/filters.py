"""What makes a usable training clip: no clipping, no silence, at most ten seconds, sane level.

Game audio is short effects padded with silence, a few files clip, and levels vary by
40 dB. The separator learns from targets placed in 10 s windows, so silence inside a
target teaches it nothing and a clipped target teaches distortion. `Segmenter` cuts a
stream into clips in one pass with bounded memory (at most two clip lengths held),
and gives the same clips whatever block size the stream arrives in.
"""

import math
from dataclasses import dataclass

import numpy as np

FULL_SCALE = 0.9999  # int16 full scale decodes to 32767/32768


@dataclass(frozen=True)
class ClipRules:
    sample_rate: int = 32000
    frame_s: float = 0.02  # activity is decided per 20 ms frame
    floor_dbfs: float = -60.0  # a frame is silent below this...
    below_peak_db: float = 40.0  # ...or this far below the file's peak
    max_gap_s: float = 1.0  # a longer silence ends the clip
    pad_s: float = 0.05  # silence kept around each clip
    max_clip_s: float = 10.0
    min_clip_s: float = 0.1  # a closed hi-hat decays 40 dB in about 0.15 s
    min_rms_dbfs: float = -50.0  # quieter clips are dropped as near-silent
    max_clipped_fraction: float = 0.001  # files with more full-scale samples are dropped
    target_rms_dbfs: float = -23.0  # loudness normalisation, over active frames
    peak_ceiling_dbfs: float = -1.0
    fade_s: float = 0.005


def db(x: float) -> float:
    return 20.0 * math.log10(max(x, 1e-10))


def clipped_count(block: np.ndarray) -> int:
    """Samples at full scale in a (channels, samples) block."""
    return int(np.count_nonzero(np.abs(block) >= FULL_SCALE))


def activity_threshold_dbfs(peak: float, rules: ClipRules) -> float:
    return max(rules.floor_dbfs, db(peak) - rules.below_peak_db)


class Segmenter:
    """Streaming silence trimming and splitting of a mono signal into clips.

    A clip starts `pad_s` before the first active frame, ends `pad_s` after the last
    one, and ends early at a gap longer than `max_gap_s`. Runs longer than `max_clip_s`
    are cut: into `max_clip_s` pieces while more than two lengths are buffered, the
    rest into two equal halves, so no piece is a useless sliver.
    """

    def __init__(self, threshold_dbfs: float, rules: ClipRules) -> None:
        self.rules = rules
        self._frame = max(1, round(rules.frame_s * rules.sample_rate))
        self._threshold = 10.0 ** (threshold_dbfs / 20.0)
        self._pad = math.ceil(rules.pad_s / rules.frame_s)
        self._gap = math.ceil(rules.max_gap_s / rules.frame_s)
        self._max = round(rules.max_clip_s * rules.sample_rate)
        self._carry = np.zeros(0, np.float32)
        self._before: list[np.ndarray] = []  # silent frames before a clip (for its lead-in pad)
        self._clip: list[np.ndarray] = []  # frames of the open clip
        self._clip_len = 0
        self._silent_run = 0  # trailing silent frames of the open clip...
        self._silent_samples = 0  # ...and their length

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        """Feed mono samples; returns the clips completed by them."""
        data = np.concatenate([self._carry, np.asarray(block, np.float32)])
        n = len(data) // self._frame * self._frame
        self._carry = data[n:]
        out: list[np.ndarray] = []
        frames = data[:n].reshape(-1, self._frame)
        if len(frames):
            active = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) >= self._threshold
            for frame, is_active in zip(frames, active, strict=True):
                self._step(frame, bool(is_active), out)
        return out

    def finish(self) -> list[np.ndarray]:
        """Flush the last partial frame and close the open clip."""
        out: list[np.ndarray] = []
        if len(self._carry):
            frame = self._carry
            self._carry = np.zeros(0, np.float32)
            self._step(
                frame, bool(np.sqrt(np.mean(frame.astype(np.float64) ** 2)) >= self._threshold), out
            )
        self._close(out)
        return out

    def _step(self, frame: np.ndarray, active: bool, out: list[np.ndarray]) -> None:
        if active:
            if not self._clip:
                self._clip = self._before[-self._pad :] if self._pad else []
                self._clip_len = sum(len(f) for f in self._clip)
            self._silent_run = self._silent_samples = 0
            self._append(frame, out)
        elif self._clip:
            self._silent_run += 1
            self._silent_samples += len(frame)
            self._append(frame, out)
            if self._silent_run > self._gap:
                self._close(out)
        else:
            self._before = [*self._before[-self._pad :], frame] if self._pad else []

    def _append(self, frame: np.ndarray, out: list[np.ndarray]) -> None:
        self._clip.append(frame)
        self._clip_len += len(frame)
        if self._clip_len >= 2 * self._max:
            audio = np.concatenate(self._clip)
            out.append(audio[: self._max])
            self._clip, self._clip_len = [audio[self._max :]], len(audio) - self._max

    def _close(self, out: list[np.ndarray]) -> None:
        if not self._clip:
            return
        audio = np.concatenate(self._clip)
        audio = audio[: len(audio) - max(0, self._silent_samples - self._pad * self._frame)]
        self._before, self._clip, self._clip_len, self._silent_run, self._silent_samples = (
            [],
            [],
            0,
            0,
            0,
        )
        pieces = (
            [audio]
            if len(audio) <= self._max
            else [audio[: len(audio) // 2], audio[len(audio) // 2 :]]
        )
        out.extend(p for p in pieces if len(p) >= self.rules.min_clip_s * self.rules.sample_rate)


def active_rms(clip: np.ndarray, threshold_dbfs: float, rules: ClipRules) -> float:
    """RMS over the clip's active frames (a gated loudness, blind to pauses)."""
    frame = max(1, round(rules.frame_s * rules.sample_rate))
    n = len(clip) // frame * frame
    frames = clip[:n].reshape(-1, frame) if n else clip.reshape(1, -1)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    gated = rms[rms >= 10.0 ** (threshold_dbfs / 20.0)]
    return float(np.sqrt(np.mean(gated**2))) if len(gated) else float(np.sqrt(np.mean(rms**2)))


def normalise(clip: np.ndarray, threshold_dbfs: float, rules: ClipRules) -> np.ndarray:
    """Bring the active RMS to the target, never past the peak ceiling, with short fades.

    Modest on purpose: a peaky drum hit ends up quieter than speech rather than
    limited, so training mixes still see natural crest factors.
    """
    rms = active_rms(clip, threshold_dbfs, rules)
    peak = float(np.max(np.abs(clip))) if len(clip) else 0.0
    if rms <= 0.0 or peak <= 0.0:
        return clip.astype(np.float32)
    gain = min(
        10.0 ** (rules.target_rms_dbfs / 20.0) / rms,
        10.0 ** (rules.peak_ceiling_dbfs / 20.0) / peak,
    )
    out = clip.astype(np.float32) * np.float32(gain)
    fade = min(len(out) // 2, round(rules.fade_s * rules.sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def near_silent(clip: np.ndarray, rules: ClipRules) -> bool:
    """True when the trimmed clip as a whole is too quiet to be a training target."""
    return db(float(np.sqrt(np.mean(clip.astype(np.float64) ** 2)))) < rules.min_rms_dbfs
