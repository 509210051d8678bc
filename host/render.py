"""Render a file (or a section of it) into stems: the API every front end calls.

One pass streams the source through: read a block, fold channels for the channel
mode, resample to the model rate, window and separate (`host.windowing`), resample
back, unfold channels, then form the stems against the original source samples and
write them. Memory depends on the window and batch size, never on the file length.

Stems are formed at the source rate from the source's own samples, so
`target + residual == input` to float rounding whatever the resampler does, and each
stem has exactly the section's frame count and the source's channel count. The
attenuation floor keeps a fraction f = 10^(-dB/20) of the input in the target:
`target' = f*x + (1-f)*target`, `residual = x - target'` (exact for a mask model
that keeps the mixture's phase).

A split (`RenderSettings.split`) separates the windows under several queries in the same
pass (`separate` returns one target per query) and writes one stem per query plus `rest`,
the input minus every stem, so the stems sum to the input; by default their masks first
share out each time-frequency bin (`host.partition`), `overlapping` keeps the independent
targets (and writes no `rest`).

Optional effect chains (`host.chains`) run at the source rate: the pre-chain on the
source blocks before anything else (the stems then sum to the pre-processed input),
the post-chain on each written stem separately, before its gain. Both keep the frame
count exact.
"""

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from clapsep.errors import UserError
from clapsep.files import TempLock, cannot_write, check_writable, write_problem
from clapsep.host.audio_io import AtomicWavWriter, BitDepth, Section, SourceReader
from clapsep.host.chains import EffectSpec, StreamingChain
from clapsep.host.partition import partition
from clapsep.host.resample import Resampler, resampled_length
from clapsep.host.windowing import Cancel, Cancelled, OverlapAdd, Progress

Stem = str
"""A stem's name: "target"/"residual" of a one-query render, a split's names and "rest"."""
ChannelMode = Literal["independent", "mono", "mid-side"]
SeparateFn = Callable[[np.ndarray], np.ndarray]
"""Maps a float32 batch [B, window] at the model rate to the separated target [B, window],
or, for a split of K queries, to the K targets [K, B, window]."""

STEMS: tuple[Stem, ...] = ("target", "residual")
REST: Stem = "rest"
CHANNEL_MODES: tuple[ChannelMode, ...] = ("independent", "mono", "mid-side")
DEFAULT_TEMPLATE = "{name}{section}_{slug}_{stem}"

__all__ = [
    "Cancelled",
    "RenderSettings",
    "RenderedStem",
    "SeparateFn",
    "output_name",
    "planned_outputs",
    "render_file",
]


@dataclass(frozen=True)
class RenderSettings:
    """What to render and how; window and overlap are in samples at `model_rate`.

    The rate and the window have no defaults: they are the model package's
    (`Engine.prepare` reads them from its manifest), never a guess made here.

    `channel_mode`: "independent" separates each channel (stereo stays stereo); "mono"
    separates the channel mean once and gives every channel that target; "mid-side"
    separates (L+R)/2 and (L-R)/2 of a stereo file. `gains_db` scales written stems.
    `pre_chain` / `post_chain` are effects run before the model and on each stem.

    `split` names the stems of a several-query render, in the order of `separate`'s targets;
    `stems` then picks from those names and `rest` (or only the names when `overlapping`).
    """

    model_rate: int
    window: int
    overlap: int
    stems: tuple[Stem, ...] = STEMS
    atten_limit_db: float | None = None
    gains_db: Mapping[str, float] = field(default_factory=dict)
    channel_mode: ChannelMode = "independent"
    batch_size: int = 4
    section: Section | None = None
    bit_depth: BitDepth = 32
    name_template: str = DEFAULT_TEMPLATE
    overwrite: bool = False
    block_frames: int = 1 << 16
    pre_chain: tuple[EffectSpec, ...] = ()
    post_chain: tuple[EffectSpec, ...] = ()
    split: tuple[Stem, ...] = ()
    overlapping: bool = False

    def __post_init__(self) -> None:
        check_split_names(self.split)
        known = self.stem_names
        if (
            not self.stems
            or any(s not in known for s in self.stems)
            or len(set(self.stems)) != len(self.stems)
        ):
            raise UserError(
                f"stems must be one or more of {', '.join(known)}, "
                f"got {', '.join(self.stems) or 'none'}"
            )
        if self.channel_mode not in CHANNEL_MODES:
            raise UserError(
                f"channel mode must be one of {', '.join(CHANNEL_MODES)}, got {self.channel_mode}"
            )
        if self.atten_limit_db is not None and not self.atten_limit_db >= 0:
            raise UserError(f"attenuation limit must be >= 0 dB, got {self.atten_limit_db}")
        if unknown := set(self.gains_db) - set(known):
            raise UserError(f"gains given for unknown stems: {', '.join(sorted(unknown))}")
        if self.window < 1 or not 0 <= self.overlap <= self.window // 2:
            raise UserError(
                f"overlap must be between 0 and half the window ({self.window}), got {self.overlap}"
            )
        if self.batch_size < 1 or self.block_frames < 1:
            raise UserError("batch size and block size must be at least 1")

    @property
    def stem_names(self) -> tuple[Stem, ...]:
        """Every stem this render can write."""
        if not self.split:
            return STEMS
        return self.split if self.overlapping else (*self.split, REST)

    @property
    def queries(self) -> int:
        """How many targets `separate` returns per window."""
        return len(self.split) or 1


def check_split_names(names: tuple[str, ...]) -> None:
    """A split's stem names: two or more, distinct, one printable word-ish name each, never
    `rest` (the stem of what no query claimed)."""
    if not names:
        return
    if len(names) < 2:
        raise UserError("a split needs at least two stems (NAME=QUERY each); for one, use --query")
    for name in names:
        if not name or name != name.strip() or any(c in _UNSAFE or ord(c) < 32 for c in name):
            raise UserError(f"split stem name {name!r} must be a plain name (no / \\ : * ? etc.)")
    if REST in names:
        raise UserError(f"{REST!r} is the stem of what no query claimed; name the split stems else")
    if len({n.casefold() for n in names}) != len(names):
        raise UserError(f"split stem names must differ: {', '.join(names)}")


@dataclass(frozen=True)
class RenderedStem:
    """One written stem file."""

    source: Path
    stem: Stem
    path: Path
    frames: int
    sample_rate: int
    channels: int


def output_name(
    source: Path,
    slug: str,
    stem: str,
    template: str = DEFAULT_TEMPLATE,
    section: tuple[int, int] | None = None,
) -> str:
    """File name from the template's fields {name} {slug} {stem} {section}; always .wav.

    {section} is empty for a whole file and `_<first>-<stop>` (frames) for a section,
    so stems of different sections of one source never collide.
    """
    fields = {
        "name": source.stem,
        "slug": _safe(slug) or "query",
        "stem": stem,
        "section": f"_{section[0]}-{section[1]}" if section else "",
    }
    used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if unknown := used - set(fields):
        raise UserError(
            f"name template uses unknown field(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(fields)}"
        )
    name = _safe(template.format(**fields))
    if not name:
        raise UserError(f"name template {template!r} gives an empty file name")
    return name if name.lower().endswith(".wav") else f"{name}.wav"


def render_file(
    source: Path,
    out_dir: Path,
    separate: SeparateFn,
    query_slug: str,
    settings: RenderSettings,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[RenderedStem]:
    """Separate `source` and write the requested stems into `out_dir`.

    Raises `UserError` for unreadable input or taken output names (before any work) and for
    a failed write (a full disk, a read-only folder: one line saying which), `Cancelled` when
    `cancel()` turns true; in every case no output or temp file is left.
    """
    source, out_dir = Path(source), Path(out_dir)
    with SourceReader(source, settings.section) as reader:
        codec = _ChannelCodec(settings.channel_mode, reader.channels)
        span = (reader.first, reader.first + reader.frames)
        paths = planned_outputs(source, out_dir, query_slug, settings, span)
        writers: dict[Stem, AtomicWavWriter] = {}
        locks: list[TempLock] = []
        try:
            for stem, path in paths.items():
                writers[stem] = _open_writer(path, reader, settings)
                locks.append(TempLock(writers[stem].temp))  # live: other processes' sweeps keep it
            _stream(reader, codec, separate, settings, writers, progress, cancel)
            committed = []
            try:
                for writer in writers.values():
                    try:
                        committed.append(writer.commit())
                    except (OSError, RuntimeError) as exc:
                        raise cannot_write(writer.dest, exc) from None
            except BaseException:
                for path in committed:
                    path.unlink(missing_ok=True)
                raise
        finally:
            for writer in writers.values():
                writer.discard()
            for lock in locks:
                lock.release()
    if progress is not None:
        progress(1.0)
    return [
        RenderedStem(source, stem, path, reader.frames, reader.sample_rate, reader.channels)
        for stem, path in paths.items()
    ]


def _open_writer(path: Path, reader: SourceReader, settings: RenderSettings) -> AtomicWavWriter:
    try:
        return AtomicWavWriter(
            path, reader.sample_rate, reader.channels, settings.bit_depth, settings.overwrite
        )
    except UserError:
        # the audio library says only that it cannot open the file; a probe says why
        if (problem := write_problem(path.parent)) is not None:
            raise problem from None
        raise


def planned_outputs(
    source: Path, out_dir: Path, query_slug: str, settings: RenderSettings, span: tuple[int, int]
) -> dict[Stem, Path]:
    """Each requested stem's output path, checked to be writable (raises `UserError`).

    `span` is the (first, stop) frames of `source` rendered; it names the files when the
    settings ask for a section.
    """
    section = span if settings.section else None
    paths = {
        stem: Path(out_dir) / output_name(source, query_slug, stem, settings.name_template, section)
        for stem in settings.stems
    }
    _check_outputs(source, paths, settings.overwrite)
    return paths


def _stream(
    reader: SourceReader,
    codec: "_ChannelCodec",
    separate: SeparateFn,
    settings: RenderSettings,
    writers: Mapping[Stem, AtomicWavWriter],
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    model_frames = resampled_length(reader.frames, reader.sample_rate, settings.model_rate)
    queries = settings.queries
    down = Resampler(reader.sample_rate, settings.model_rate, codec.folded, model_frames)
    up = Resampler(settings.model_rate, reader.sample_rate, codec.folded * queries, reader.frames)
    ola = OverlapAdd(
        _checked(separate, partition if settings.split and not settings.overlapping else None),
        model_frames,
        codec.folded,
        settings.window,
        settings.overlap,
        settings.batch_size,
        None if progress is None else (lambda fraction: progress(0.99 * fraction)),
        cancel,
        outputs=queries,
    )
    pending = _FrameQueue(reader.channels)  # source frames waiting for their separated target
    floor = 0.0 if settings.atten_limit_db is None else 10 ** (-settings.atten_limit_db / 20)
    gains = {stem: 10 ** (settings.gains_db.get(stem, 0.0) / 20) for stem in writers}
    pre = StreamingChain(settings.pre_chain, reader.sample_rate, reader.channels, reader.frames)
    post = {
        stem: StreamingChain(
            settings.post_chain, reader.sample_rate, reader.channels, reader.frames
        )
        for stem in writers
    }

    def write(stem: Stem, block: np.ndarray) -> None:
        try:
            writers[stem].write(block if gains[stem] == 1 else block * gains[stem])
        except (OSError, RuntimeError) as exc:  # pedalboard: "Unable to write data to audio file"
            raise cannot_write(writers[stem].dest, exc) from None

    def emit(model_block: np.ndarray) -> None:
        frames = model_block.shape[1]
        targets = [codec.unfold(t) for t in model_block.reshape(queries, codec.folded, frames)]
        stems = _stems(settings, targets, pending.pop(frames), floor)
        for stem in writers:
            write(stem, post[stem].push(stems[stem]))

    def feed(x: np.ndarray) -> None:
        pending.push(x)
        emit(up.push(ola.push(down.push(codec.fold(x)))))

    for block in reader.blocks(settings.block_frames):
        if cancel is not None and cancel():
            raise Cancelled("render cancelled")
        feed(pre.push(block))
    feed(pre.finish())
    emit(up.push(ola.push(down.finish())))
    emit(up.finish())
    for stem in writers:
        write(stem, post[stem].finish())
    assert len(pending) == 0, "every source frame must have been matched with a target frame"


def _stems(
    settings: RenderSettings, targets: list[np.ndarray], x: np.ndarray, floor: float
) -> dict[Stem, np.ndarray]:
    """Every stem of a block from its targets (one per query) and the input samples `x`.

    The attenuation floor f keeps f of the input in a target; in a partition each stem keeps
    an equal share f * x / (K + 1) instead, so the stems still sum to the input.
    """
    if not settings.split:
        target = floor * x + (1 - floor) * targets[0] if floor else targets[0]
        return {"target": target, "residual": x - target}
    if settings.overlapping:
        return {
            name: floor * x + (1 - floor) * t if floor else t
            for name, t in zip(settings.split, targets, strict=True)
        }
    share = floor * x / (len(targets) + 1) if floor else 0.0
    stems = {
        name: (1 - floor) * t + share if floor else t
        for name, t in zip(settings.split, targets, strict=True)
    }
    stems[REST] = x - sum(stems.values())
    return stems


def _checked(
    separate: SeparateFn, combine: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
) -> SeparateFn:
    """Fail loudly if the separator returns non-finite samples instead of writing them; then
    `combine(batch, targets)` (the partition of a split's targets), if given."""

    def fn(batch: np.ndarray) -> np.ndarray:
        out = np.asarray(separate(batch), dtype=np.float32)
        if not np.isfinite(out).all():
            raise RuntimeError("the separator returned NaN or infinite samples")
        return out if combine is None else combine(batch, out)

    return fn


class _ChannelCodec:
    """Folds (channels, n) source blocks into the rows the model separates, and back."""

    def __init__(self, mode: ChannelMode, channels: int) -> None:
        if mode == "mid-side" and channels != 2:
            raise UserError(f"mid/side needs a stereo source, this one has {channels} channel(s)")
        self.mode, self.channels = mode, channels
        self.folded = 1 if mode == "mono" else channels

    def fold(self, x: np.ndarray) -> np.ndarray:
        if self.mode == "mono":
            return x.mean(axis=0, keepdims=True, dtype=np.float32)
        if self.mode == "mid-side":
            return np.stack([(x[0] + x[1]) / 2, (x[0] - x[1]) / 2])
        return x

    def unfold(self, y: np.ndarray) -> np.ndarray:
        if self.mode == "mono":
            return np.repeat(y, self.channels, axis=0)
        if self.mode == "mid-side":
            return np.stack([y[0] + y[1], y[0] - y[1]])
        return y


class _FrameQueue:
    """FIFO of (channels, n) frames; holds only the pipeline's latency worth of audio."""

    def __init__(self, channels: int) -> None:
        self._blocks: list[np.ndarray] = []
        self._channels = channels

    def __len__(self) -> int:
        return sum(b.shape[1] for b in self._blocks)

    def push(self, block: np.ndarray) -> None:
        self._blocks.append(block)

    def pop(self, frames: int) -> np.ndarray:
        parts, need = [], frames
        while need:
            head = self._blocks[0]
            parts.append(head[:, :need])
            if head.shape[1] <= need:
                self._blocks.pop(0)
            else:
                self._blocks[0] = head[:, need:]
            need -= parts[-1].shape[1]
        return np.concatenate(parts, axis=1) if parts else np.zeros((self._channels, 0), np.float32)


def _check_outputs(source: Path, paths: Mapping[str, Path], overwrite: bool) -> None:
    if len(set(paths.values())) != len(paths):
        raise UserError("the name template gives every stem the same file name; include {stem}")
    for path in paths.values():
        if path.resolve() == source.resolve():
            raise UserError(f"output {path} would replace the source; the source is never touched")
        check_writable(path, overwrite)


_UNSAFE = set('<>:"/\\|?*')


def _safe(text: str) -> str:
    """A file name part without path separators or characters Windows refuses."""
    cleaned = "".join("_" if c in _UNSAFE or ord(c) < 32 else c for c in text)
    return cleaned.strip().rstrip(".")
