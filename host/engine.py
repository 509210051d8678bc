"""The host API front ends render through: a model package, a prepared request, stems on disk.

`Engine` holds one verified package with its separator and query encoders, so the CLI,
the bridge and the panel load a model once. `prepare` turns a preset (and the options
laid over it) into a `RenderRequest` once: the condition vector (one per stem of a split),
and `RenderSettings` built from the package's own rules (rate, window). A split encodes
each batch of windows once and decodes it under every condition. `render_many` renders any number of
inputs with that request through the render cache. onnxruntime sessions are
thread-safe, so one engine may serve several worker threads (`render_many(workers=N)`).
"""

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clapsep.errors import UserError
from clapsep.files import cannot_write
from clapsep.host.audio_io import Section
from clapsep.host.encoded_cache import EncodedCache
from clapsep.host.presets import Preset, QueryFields
from clapsep.host.render import REST, ChannelMode, RenderedStem, RenderSettings, SeparateFn
from clapsep.host.render_cache import RenderCache, cached_render
from clapsep.host.runtime import AudioSpan, QueryEncoder, QuerySpec, Separator, load_package
from clapsep.host.windowing import Cancel, Cancelled, Progress
from clapsep.package_format import MANIFEST_FILE
from clapsep.paths import bundled_model_dir, default_model_dir, user_data_dir

DEFAULT_FILE = "default"
OVERLAP_DIVISOR = 5  # overlap = window / 5: 2 s of crossfade on 10 s windows

InputProgress = Callable[[int, float], None]
"""Called with an input's index in `render_many` and the fraction of that input done."""


def installed_packages(directory: Path | None = None) -> list[Path]:
    """Model package folders (those with a manifest) in the model directory."""
    directory = directory or default_model_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if (p / MANIFEST_FILE).is_file())


def default_package(directory: Path | None = None) -> Path:
    """The package named in `<models>/default`, else the only one installed, else the bundled
    one."""
    directory = directory or default_model_dir()
    marker = directory / DEFAULT_FILE
    if marker.is_file():
        name = marker.read_text(encoding="utf-8").strip()
        if not (directory / name / MANIFEST_FILE).is_file():
            raise UserError(f"{marker} names {name!r}, which is not a model package in {directory}")
        return directory / name
    found = installed_packages(directory)
    if len(found) == 1:
        return found[0]
    if not found and (bundled_model_dir() / MANIFEST_FILE).is_file():
        return bundled_model_dir()
    if not found:
        raise UserError(
            f"no model package installed in {directory}; export one into it "
            "(clapsep export --config official --weights WEIGHTS "
            f"--out {directory / 'clapsep-official'}) or pass --model PACKAGE"
        )
    names = ", ".join(p.name for p in found)
    raise UserError(
        f"several model packages in {directory} ({names}); write one name into "
        f"{marker} or pass --model PACKAGE"
    )


@dataclass(frozen=True)
class RenderInput:
    """One file for `render_many`: where its stems go (created if missing), and what it
    changes in the request's settings (None keeps the request's)."""

    source: Path
    out_dir: Path
    section: Section | None = None
    channel_mode: ChannelMode | None = None
    overwrite: bool | None = None


@dataclass(frozen=True)
class StemQuery:
    """What one stem keeps and removes: the target of a one-query render, or a split stem."""

    name: str
    positive: QuerySpec | None
    negative: QuerySpec | None

    def describe(self) -> dict[str, Any]:
        def side(spec: QuerySpec | None) -> dict[str, Any] | None:
            return (
                None
                if spec is None
                else {
                    "text": spec.text,
                    "audio": [str(p) for p in spec.audio_files],
                    "spans": [[s.start, s.end] for s in spec.audio_spans],
                    "audio_weight": spec.audio_weight,
                }
            )

        return {"positive": side(self.positive), "negative": side(self.negative)}


@dataclass(frozen=True, eq=False)
class RenderRequest:
    """A preset made ready to render: what each stem keeps and removes, their conditions
    [K, condition_dim] and the settings.

    `query_slug` names the output files; `model_identity` (package digest and conditions)
    keys the render cache.
    """

    queries: tuple[StemQuery, ...]
    query_slug: str
    conditions: np.ndarray
    model_identity: str
    settings: RenderSettings

    def settings_for(self, item: RenderInput) -> RenderSettings:
        changes = {
            name: value
            for name, value in (
                ("section", item.section),
                ("channel_mode", item.channel_mode),
                ("overwrite", item.overwrite),
            )
            if value is not None
        }
        return replace(self.settings, **changes) if changes else self.settings

    def describe(self) -> dict[str, Any]:
        if not self.settings.split:
            return {**self.queries[0].describe(), "slug": self.query_slug}
        return {
            "split": [{"stem": q.name, **q.describe()} for q in self.queries],
            "partition": not self.settings.overlapping,
            "slug": self.query_slug,
        }


@dataclass(frozen=True)
class RenderOutcome:
    """What became of one input: its stems (and whether the cache gave them), or the error
    `render_many` was told to go on past."""

    index: int
    input: RenderInput
    stems: tuple[RenderedStem, ...] = ()
    cached: bool = False
    error: Exception | None = None
    seconds: float = 0.0


class Engine:
    """One loaded model package: prepared requests and cached renders."""

    def __init__(
        self,
        package: Path | None = None,
        device: str = "auto",
        cache: RenderCache | None = None,
        threads: int | None = None,
        precision: str = "fp32",
        encoded_cache_mb: int = 0,
    ) -> None:
        self.package = load_package(package or default_package())
        self.separator = Separator(self.package, device, threads=threads, precision=precision)
        self.encoder = QueryEncoder(
            self.package, device, cache_dir=user_data_dir() / "cache" / "embeddings"
        )
        self.cache = cache
        # Re-rendering the same clip under another query (the panel) skips the encoder.
        self.encoded = EncodedCache(encoded_cache_mb << 20) if encoded_cache_mb > 0 else None

    @property
    def provider(self) -> str:
        return self.separator.provider

    def describe(self) -> dict[str, Any]:
        pkg = self.package
        return {
            "name": pkg.name,
            "version": pkg.version,
            "digest": pkg.digest,
            "path": str(pkg.path),
            "provider": self.provider,
            "provider_note": self.separator.provider_note,
            "precision": self.separator.precision,
        }

    def separate_fn(self, conditions: np.ndarray) -> SeparateFn:
        """Windows -> their target under one condition [C], or their targets [K, B, S] under
        K conditions [K, C], from one encoder pass."""
        conditions = np.asarray(conditions, dtype=np.float32)
        one = conditions.ndim == 1
        if one and self.encoded is None:
            row = conditions[None, :]
            return lambda batch: self.separator.separate(batch, row.repeat(batch.shape[0], 0))

        def separate(batch: np.ndarray) -> np.ndarray:
            if self.encoded is None:
                encoded = self.separator.encode(batch)
            else:
                encoded = self.encoded.encode(batch, self.separator.encode)
            targets = [
                self.separator.decode(encoded, row[None, :].repeat(batch.shape[0], 0))
                for row in np.atleast_2d(conditions)
            ]
            return targets[0] if one else np.stack(targets)

        return separate

    def prepare(
        self,
        preset: Preset,
        window_seconds: float | None = None,
        overlap_seconds: float | None = None,
        span_source: Path | None = None,
        **overrides: Any,
    ) -> RenderRequest:
        """`preset` ready to render: its condition(s) computed once, and its render options
        with the non-None `overrides` (any `RenderSettings` field) laid over them, as settings
        at the package's rate with its window (or a shorter one) and overlap. Spans in the
        query are seconds of `span_source`, the input being rendered."""
        options = {
            "stems": preset.stems,
            "atten_limit_db": preset.atten_limit_db,
            "gains_db": dict(preset.gains_db),
            "pre_chain": preset.pre_chain,
            "post_chain": preset.post_chain,
            "split": preset.split_names,
        }
        options.update({name: value for name, value in overrides.items() if value is not None})
        if options.get("overlapping") and overrides.get("stems") is None:
            options["stems"] = tuple(s for s in options["stems"] if s != REST)  # none to write
        settings = self._settings(window_seconds, overlap_seconds, **options)
        parts: list[tuple[str, QueryFields]] = (
            [(stem.name, stem) for stem in preset.split] if preset.split else [("target", preset)]
        )
        queries = tuple(
            StemQuery(
                name,
                _side(
                    fields.positive_text,
                    fields.positive_audio,
                    fields.positive_spans,
                    preset,
                    span_source,
                ),
                _side(
                    fields.negative_text,
                    fields.negative_audio,
                    fields.negative_spans,
                    preset,
                    span_source,
                ),
            )
            for name, fields in parts
        )
        conditions = np.stack([self.encoder.condition(q.positive, q.negative) for q in queries])
        # A lower precision renders other samples: its renders are another model's (the
        # fp32 identity is unchanged, so caches from before precisions existed still hit).
        precision = "" if self.separator.precision == "fp32" else self.separator.precision
        identity = hashlib.sha256(
            (self.package.digest + precision).encode() + conditions.astype(np.float32).tobytes()
        )
        return RenderRequest(
            queries, preset.slug or "query", conditions, identity.hexdigest(), settings
        )

    def _settings(
        self, window_seconds: float | None, overlap_seconds: float | None, **kwargs: Any
    ) -> RenderSettings:
        rate, longest = self.package.sample_rate, self.package.window_samples
        window = longest if window_seconds is None else round(window_seconds * rate)
        if not self.package.min_window_samples <= window <= longest:
            raise UserError(
                f"the window must be {self.package.min_window_samples / rate:g}.."
                f"{longest / rate:g} s for model {self.package.name}"
            )
        overlap = (
            window // OVERLAP_DIVISOR if overlap_seconds is None else round(overlap_seconds * rate)
        )
        return RenderSettings(model_rate=rate, window=window, overlap=overlap, **kwargs)

    def render(
        self,
        request: RenderRequest,
        item: RenderInput,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> tuple[list[RenderedStem], bool]:
        """Render one input: (stems written, whether they came from the render cache)."""
        try:
            item.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, a read-only or full disk
            raise cannot_write(item.out_dir, exc) from None
        return cached_render(
            item.source,
            item.out_dir,
            self.separate_fn(
                request.conditions if request.settings.split else request.conditions[0]
            ),
            request.query_slug,
            request.settings_for(item),
            self.cache,
            request.model_identity,
            progress,
            cancel,
        )

    def render_many(
        self,
        request: RenderRequest,
        inputs: Sequence[RenderInput],
        progress: InputProgress | None = None,
        cancel: Cancel | None = None,
        on_done: Callable[[RenderOutcome], None] | None = None,
        workers: int = 1,
        keep_going: tuple[type[Exception], ...] = (),
    ) -> list[RenderOutcome]:
        """Render every input with one request; the outcomes in input order.

        `on_done` hears of each outcome as it comes (in the calling thread). An error of a
        `keep_going` type ends only its input's render and is kept in its outcome; any
        other stops the whole call. `cancel()` is polled before each input and between
        blocks. `workers` > 1 renders that many inputs at once in threads sharing the
        model; leaving the call (by an error or Ctrl-C) stops them before it returns.
        """
        outcomes: dict[int, RenderOutcome] = {}
        stopped = False

        def halted() -> bool:
            return stopped or (cancel is not None and cancel())

        def one(index: int) -> RenderOutcome:
            item, started = inputs[index], time.perf_counter()
            step = None if progress is None else (lambda fraction: progress(index, fraction))
            try:
                if halted():
                    raise Cancelled("render cancelled")
                stems, cached = self.render(request, item, step, halted)
            except keep_going as exc:
                return RenderOutcome(index, item, error=exc, seconds=time.perf_counter() - started)
            return RenderOutcome(
                index, item, tuple(stems), cached, seconds=time.perf_counter() - started
            )

        def done(outcome: RenderOutcome) -> None:
            outcomes[outcome.index] = outcome
            if on_done is not None:
                on_done(outcome)

        if workers == 1:
            for index in range(len(inputs)):
                done(one(index))
        else:
            pool = ThreadPoolExecutor(workers)
            try:
                for future in as_completed(
                    [pool.submit(one, index) for index in range(len(inputs))]
                ):
                    done(future.result())
            finally:
                stopped = True
                pool.shutdown(wait=True, cancel_futures=True)
        return [outcomes[index] for index in range(len(inputs))]


def _side(
    text: str,
    audio: tuple[str, ...],
    spans: tuple[tuple[float, float], ...],
    preset: Preset,
    span_source: Path | None,
) -> QuerySpec | None:
    """One side of a query, or None when it says nothing."""
    if not text and not audio and not spans:
        return None
    if spans and span_source is None:
        raise UserError("a span query takes its sound from the input: render one input with it")
    return QuerySpec(
        text or None,
        tuple(Path(a).expanduser() for a in audio),
        preset.audio_weight,
        tuple(AudioSpan(span_source, start, end) for start, end in spans),
    )


def stem_records(rendered: Sequence[RenderedStem], cached: bool) -> list[dict[str, Any]]:
    """JSON-ready description of written stems."""
    return [
        {
            "input": str(r.source),
            "stem": r.stem,
            "path": str(r.path),
            "frames": r.frames,
            "sample_rate": r.sample_rate,
            "channels": r.channels,
            "cached": cached,
        }
        for r in rendered
    ]
