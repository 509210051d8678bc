"""Streaming audio in and out: sections of any file pedalboard reads, and WAV stems
written atomically.

Arrays are (channels, samples) float32. Reading goes block by block, so memory does
not grow with file length. Sources are only ever opened for reading.

Non-finite samples (NaN/Inf, possible only in float files) are refused with a
`UserError` naming the first position: a stem computed from them could not sum back
to the input and would poison a 24-bit file, and silently zeroing them would hide a
damaged source. Nothing is written in that case, because the writer only commits
after the last block.

Integer PCM is read on libsndfile's scale (code / 2**(bits-1), as most DAWs and editors
read it), not pedalboard's: pedalboard 0.9 divides 8-, 16- and 24-bit codes by
2**(bits-1) - 1 (127, 32767, 8388607), so stems computed from its samples would sum to the
source times 128/127, 32768/32767 or 8388608/8388607 as every other tool reads it. Each
block's codes are recovered exactly (`rint(sample * divisor)`) and rescaled; the divisor is
measured once on a one-sample in-memory WAV, so a pedalboard that already divides by
2**(bits-1) leaves the samples as they are. 32-bit integer and float files need nothing:
pedalboard's float32 samples of them are libsndfile's.
"""

import functools
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pedalboard.io import AudioFile

from clapsep.errors import UserError
from clapsep.files import check_writable, publish, temp_path

# What a folder scan, a drop target or a file dialog treats as audio.
AUDIO_SUFFIXES = {".wav", ".wave", ".bwf", ".flac", ".aif", ".aiff", ".mp3", ".ogg"}

BitDepth = Literal[24, 32]  # 24-bit integer PCM or 32-bit float WAV

# pedalboard's `file_dtype` of the integer PCM it does not decode on libsndfile's scale.
_RESCALED_PCM_BITS = {"int8": 8, "int16": 16, "int24": 24}


@dataclass(frozen=True)
class Section:
    """Part of a file, in seconds (`unit="seconds"`) or frames; `end=None` means the end."""

    start: float = 0
    end: float | None = None
    unit: Literal["seconds", "samples"] = "seconds"

    def first_frame(self, sample_rate: float) -> int:
        """The first frame index, known without the file's length (the render cache names hits
        with it)."""
        return round(self.start * self._scale(sample_rate))

    def frames(self, sample_rate: float, total: int) -> tuple[int, int]:
        """(first, stop) frame indices, checked against a file of `total` frames."""
        first = self.first_frame(sample_rate)
        stop = total if self.end is None else round(self.end * self._scale(sample_rate))
        if first < 0 or stop > total or stop <= first:
            where = f"{self.start}..{'end' if self.end is None else self.end} {self.unit}"
            raise UserError(
                f"section {where} is empty or outside the file's {total} frames "
                f"({total / sample_rate:.3f} s)"
            )
        return first, stop

    def _scale(self, sample_rate: float) -> float:
        return sample_rate if self.unit == "seconds" else 1


class SourceReader:
    """An open source file (or a section of it) read in (channels, n) float32 blocks."""

    def __init__(self, path: Path, section: Section | None = None) -> None:
        self.path = Path(path)
        _check_complete(self.path)
        try:
            self._file = AudioFile(str(self.path))  # read-only
        except (ValueError, OSError) as exc:
            raise UserError(f"cannot read {self.path}: {_reason(exc)}") from None
        try:
            self.sample_rate = round(self._file.samplerate)
            self.channels = self._file.num_channels
            bits = _RESCALED_PCM_BITS.get(self._file.file_dtype)
            # (pedalboard's divisor, libsndfile's) for integer PCM, None when they agree
            self._pcm_scale = None if bits is None else _pcm_divisors(bits)
            total = self._file.frames if self._file.exact_duration_known else self._count_frames()
            if total == 0:
                raise UserError(f"{self.path} holds no audio frames")
            self.first, stop = (section or Section()).frames(self.sample_rate, total)
            self.frames = stop - self.first
        except BaseException:
            self._file.close()
            raise

    def _count_frames(self) -> int:
        """Decode once to learn the length of a file that does not state it (constant memory)."""
        total = 0
        while got := self._file.read(1 << 16).shape[1]:
            total += got
        return total

    def blocks(self, block_frames: int = 1 << 16) -> Iterator[np.ndarray]:
        """Yield the section's frames in order; refuse NaN/Inf with the position of the first."""
        self._file.seek(self.first)
        done = 0
        while done < self.frames:
            block = self._file.read(min(block_frames, self.frames - done))
            if block.shape[1] == 0:
                raise UserError(
                    f"{self.path} ended after {self.first + done} frames, before its stated length"
                )
            bad = ~np.isfinite(block)
            if bad.any():
                at = self.first + done + int(np.argmax(bad.any(axis=0)))
                raise UserError(
                    f"{self.path} contains NaN or infinite samples (first at frame {at}, "
                    f"{at / self.sample_rate:.3f} s); repair the file before separating it"
                )
            done += block.shape[1]
            if self._pcm_scale is not None:
                divisor, full_scale = self._pcm_scale
                block = np.rint(block.astype(np.float64) * divisor) / full_scale
            yield np.ascontiguousarray(block, dtype=np.float32)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SourceReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AtomicWavWriter:
    """Writes a WAV to a hidden temp file beside `dest`; `commit()` fsyncs and renames it.

    An existing `dest` is never replaced unless `overwrite`. `discard()` (or leaving a
    `with` block by an exception) removes the temp file, so nothing half-written stays.
    """

    def __init__(
        self,
        dest: Path,
        sample_rate: int,
        channels: int,
        bit_depth: BitDepth = 32,
        overwrite: bool = False,
    ) -> None:
        if bit_depth not in (24, 32):
            raise UserError(f"bit depth must be 24 (integer) or 32 (float), got {bit_depth}")
        self.dest, self.overwrite = Path(dest), overwrite
        check_writable(self.dest, overwrite)
        self.temp = temp_path(self.dest)
        try:
            self._file = AudioFile(str(self.temp), "w", sample_rate, channels, bit_depth=bit_depth)
        except (ValueError, OSError) as exc:
            raise UserError(f"cannot write {self.dest}: {_reason(exc)}") from None
        self.frames = 0

    def write(self, block: np.ndarray) -> None:
        if block.shape[1]:
            self._file.write(np.ascontiguousarray(block, dtype=np.float32))
            self.frames += block.shape[1]

    def commit(self) -> Path:
        self._file.close()
        return publish(self.temp, self.dest, self.overwrite)

    def discard(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)

    def __enter__(self) -> "AtomicWavWriter":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self.discard()


@functools.cache
def _pcm_divisors(bits: int) -> tuple[int, int] | None:
    """(the number pedalboard divides a `bits`-bit PCM code by, 2**(bits-1)), or None where
    they are equal; measured on an in-memory WAV holding the most negative code."""
    full_scale = 1 << (bits - 1)
    width = bits // 8
    # 8-bit WAV is unsigned (offset 128); wider WAV PCM is signed little-endian
    data = b"\x00" if bits == 8 else (-full_scale).to_bytes(width, "little", signed=True)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000 * width, width, bits)
    body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)
    with AudioFile(io.BytesIO(b"RIFF" + struct.pack("<I", len(body)) + body)) as probe:
        lowest = float(probe.read(1)[0, 0])
    divisor = round(full_scale / -lowest)
    return None if divisor == full_scale else (divisor, full_scale)


def _check_complete(path: Path) -> None:
    """Refuse WAV/AIFF files whose audio chunk is shorter than the header says.

    pedalboard pads a truncated file with silence; a stem rendered from it would
    silently disagree with what the DAW plays, so say so instead.
    """
    if not path.is_file():
        raise UserError(f"cannot read {path}: no such file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12:
            return  # too short to be either; the decoder reports it
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            fmt, data = "<I", b"data"
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            fmt, data = ">I", b"SSND"
        else:
            return
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk, length = f.read(4), struct.unpack(fmt, f.read(4))[0]
            if chunk == data:
                if length != 0xFFFFFFFF and pos + 8 + length > size:
                    raise UserError(
                        f"{path} is truncated: its header promises {length} bytes of audio "
                        f"but only {size - pos - 8} are there"
                    )
                return
            pos += 8 + length + (length & 1)


def _reason(exc: BaseException) -> str:
    """pedalboard's message without its generic prefix, on one line."""
    text = " ".join(str(exc).split())
    return text.removeprefix("Failed to open audio file: ") or type(exc).__name__
