"""A render job: clips cut from source files, one query or split, stems placed back on a
timeline.

Every front end speaks this one format: the HTTP service, the file mode for DAW scripts
that cannot do HTTP (`clapsep job`), the Audacity bridge and the OTIO renderer. A clip
names its source file, the part of it to render (`source_in`/`source_out`, seconds in the
file), where it sits on the timeline (`position`) and an `id` the DAW wants echoed back;
each result stem keeps that position, so the DAW only has to import a file at a time.
A `split` renders several named stems plus `rest` that sum to each clip; a clip's
`query_spans`/`negative_spans` (seconds in its source) are example shots taken from it.

Times are seconds; results also give exact frame counts. Each clip renders into its own
folder under the job's output folder, so clips of one source never collide.
"""

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from clapsep.errors import UserError
from clapsep.host.audio_io import Section
from clapsep.host.engine import Engine, RenderInput, RenderRequest
from clapsep.host.presets import Preset, PresetLibrary, SplitStem
from clapsep.host.render import REST, ChannelMode
from clapsep.host.windowing import Cancel, Progress

JOB_FORMAT = "clapsep-job"
RESULT_FORMAT = "clapsep-job-result"
MAX_CLIPS = 256


class _Strict(BaseModel):
    """Unknown keys, NaN and infinities (which Python's JSON reader accepts) are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string without NUL characters (no path, file name or preset name can hold one)."""


class InlineQuery(_Strict):
    """A query given in the job instead of a preset name."""

    positive: Text = Field("", max_length=500, description="what to isolate, in words")
    negative: Text = Field(
        "", max_length=500, description="what to push into the residual, in words"
    )
    positive_audio: list[Text] = Field(
        default_factory=list, max_length=8, description="example files of the target"
    )
    negative_audio: list[Text] = Field(
        default_factory=list, max_length=8, description="example files to remove"
    )
    audio_weight: float = Field(0.5, ge=0, le=1)
    name: Text = Field(
        "", max_length=80, description="names the output files; default: the first words"
    )


class SplitStemSpec(_Strict):
    """One stem of a split: its name and the query that claims its part."""

    name: Text = Field(..., min_length=1, max_length=80)
    positive: Text = Field("", max_length=500)
    negative: Text = Field("", max_length=500)
    positive_audio: list[Text] = Field(default_factory=list, max_length=8)
    negative_audio: list[Text] = Field(default_factory=list, max_length=8)


Span = Annotated[list[float], Field(min_length=2, max_length=2)]


class JobClip(_Strict):
    """One region of the DAW's timeline."""

    id: Text = Field(
        "", max_length=200, description="the DAW's identifier, echoed back in the result"
    )
    source: Text = Field(
        ..., min_length=1, max_length=4096, description="absolute path of the source file"
    )
    source_in: float = Field(0.0, ge=0, description="seconds into the source file")
    source_out: float | None = Field(
        None, gt=0, description="seconds into the source file; null: its end"
    )
    position: float = Field(0.0, ge=0, description="timeline position of the clip start, seconds")
    channel_mode: ChannelMode | None = Field(None, description="default: the job's")
    track: Text = Field(
        "", max_length=200, description="name of the DAW track, used to name new tracks"
    )
    query_spans: list[Span] = Field(
        default_factory=list,
        max_length=8,
        description="[start, end] seconds of the source where the target sounds alone",
    )
    negative_spans: list[Span] = Field(
        default_factory=list,
        max_length=8,
        description="[start, end] seconds of the source holding what to remove",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "JobClip":
        if self.source_out is not None and self.source_out <= self.source_in:
            raise ValueError("source_out must be after source_in")
        for start, end in (*self.query_spans, *self.negative_spans):
            if not 0 <= start < end:
                raise ValueError("a span needs 0 <= start < end seconds")
        return self


class JobSpec(_Strict):
    """What to render: clips and a query (a preset name and/or an inline query)."""

    format: Literal["clapsep-job"] = JOB_FORMAT
    version: Literal[1] = 1
    clips: list[JobClip] = Field(..., min_length=1, max_length=MAX_CLIPS)
    preset: Text | None = Field(None, max_length=200, description="preset library name")
    query: InlineQuery | None = None
    split: list[SplitStemSpec] | None = Field(
        None, min_length=2, max_length=8, description="named stems, each with its own query"
    )
    overlapping: bool = Field(False, description="split stems as independent targets, no rest")
    stems: list[Text] | None = Field(None, min_length=1, max_length=9)
    atten_limit_db: float | None = Field(None, ge=0, le=120)
    channel_mode: ChannelMode = "independent"
    bit_depth: Literal[24, 32] = 32

    @model_validator(mode="after")
    def _has_query(self) -> "JobSpec":
        if self.preset is None and self.query is None and self.split is None:
            raise ValueError("give a preset name, a query or a split")
        if self.split is not None and self.query is not None:
            raise ValueError("a split gives each stem its own query: drop query")
        if self.split is not None and any(c.query_spans or c.negative_spans for c in self.clips):
            raise ValueError("clip spans add to a one-query render, not to a split")
        return self

    def audio_paths(self) -> list[str]:
        """Every file the job reads: clip sources and query examples."""
        extra = (self.query.positive_audio + self.query.negative_audio) if self.query else []
        for stem in self.split or []:
            extra += stem.positive_audio + stem.negative_audio
        return [c.source for c in self.clips] + extra


class StemResult(BaseModel):
    stem: str
    path: str
    position: float = Field(description="timeline position, seconds (the clip's)")
    length: float = Field(description="seconds")
    frames: int
    sample_rate: int
    channels: int


class JobClipResult(BaseModel):
    id: str
    track: str
    position: float
    stems: list[StemResult] = Field(default_factory=list)
    error: str | None = None


def parse_job(data: Any) -> JobSpec:
    """A `JobSpec` from JSON data; raises `UserError` naming the first problem."""
    try:
        return JobSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "job"
        raise UserError(f"invalid job: {where}: {first['msg']}") from None


def job_preset(spec: JobSpec, library: PresetLibrary | None = None) -> Preset:
    """The preset the job names, with its inline query or split laid over it."""
    base = (library or PresetLibrary()).get(spec.preset) if spec.preset else None
    if spec.split is not None:
        split = tuple(
            SplitStem(
                name=s.name,
                positive_text=s.positive,
                negative_text=s.negative,
                positive_audio=tuple(s.positive_audio),
                negative_audio=tuple(s.negative_audio),
            )
            for s in spec.split
        )
        if base is None:
            return Preset(name="split", split=split)
        return replace(base, split=split, stems=(*(s.name for s in split), REST))
    if (q := spec.query) is None:
        assert base is not None  # a job names a preset, a query or a split
        return base
    return Preset.with_query(
        base, q.positive, q.positive_audio, q.negative, q.negative_audio, q.audio_weight, q.name
    )


def _with_spans(preset: Preset, clip: JobClip) -> Preset:
    """The preset with the clip's spans added to its sides as shots of the clip's source."""
    return replace(
        preset,
        positive_spans=(*preset.positive_spans, *(tuple(s) for s in clip.query_spans)),
        negative_spans=(*preset.negative_spans, *(tuple(s) for s in clip.negative_spans)),
    )


def check_within(paths: Sequence[str], roots: Sequence[Path]) -> None:
    """Refuse any path that does not resolve (links followed) inside one of `roots`."""
    resolved_roots = [r.resolve() for r in roots]
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute():
            raise UserError(f"{raw}: paths must be absolute")
        real = path.resolve()
        if not any(real.is_relative_to(root) for root in resolved_roots):
            raise UserError(f"{raw} is outside the folders this service may read")


def run_job(
    engine: Engine,
    spec: JobSpec,
    out_dir: Path,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    library: PresetLibrary | None = None,
) -> list[JobClipResult]:
    """Render every clip into `out_dir/<clip number>/`; a failing clip is reported, not raised.

    Raises `Cancelled` when `cancel()` turns true and `UserError` when the query or the
    job's options are unusable (no clip could render).
    """
    preset = job_preset(spec, library)
    if preset.split and any(c.query_spans or c.negative_spans for c in spec.clips):
        raise UserError(
            f"clip spans (target/remove regions, labels or markers) add to a one-query render, "
            f"not to the split preset {preset.name!r}"
        )

    def prepare(clip: JobClip | None) -> RenderRequest:
        return engine.prepare(
            preset if clip is None else _with_spans(preset, clip),
            span_source=None if clip is None else Path(clip.source),
            stems=tuple(spec.stems) if spec.stems else None,
            atten_limit_db=spec.atten_limit_db,
            channel_mode=spec.channel_mode,
            bit_depth=spec.bit_depth,
            overlapping=spec.overlapping or None,
        )

    inputs = [
        RenderInput(
            Path(clip.source),
            out_dir / f"{index + 1:03d}",
            Section(clip.source_in, clip.source_out),
            clip.channel_mode,
        )
        for index, clip in enumerate(spec.clips)
    ]
    step = (
        None
        if progress is None
        else (lambda index, fraction: progress((index + fraction) / len(inputs)))
    )
    if not any(c.query_spans or c.negative_spans for c in spec.clips):
        outcomes = engine.render_many(prepare(None), inputs, step, cancel, keep_going=(UserError,))
    else:  # a span is a moment of its clip's source: each clip gets its own condition
        outcomes = []
        for index, (clip, item) in enumerate(zip(spec.clips, inputs, strict=True)):
            clip_step = None if step is None else (lambda _, f, i=index: step(i, f))
            (outcome,) = engine.render_many(
                prepare(clip), [item], clip_step, cancel, keep_going=(UserError,)
            )
            outcomes.append(replace(outcome, index=index))
    results = [
        JobClipResult(
            id=clip.id,
            track=clip.track,
            position=clip.position,
            error=None if outcome.error is None else str(outcome.error),
            stems=[
                StemResult(
                    stem=r.stem,
                    path=str(r.path),
                    position=clip.position,
                    length=r.frames / r.sample_rate,
                    frames=r.frames,
                    sample_rate=r.sample_rate,
                    channels=r.channels,
                )
                for r in outcome.stems
            ],
        )
        for clip, outcome in zip(spec.clips, outcomes, strict=True)
    ]
    if progress is not None:
        progress(1.0)
    return results


def result_manifest(
    status: str,
    clips: Sequence[JobClipResult] = (),
    error: str | None = None,
    provider: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON a DAW script reads back: per clip and stem, the file and its timeline position."""
    return {
        "format": RESULT_FORMAT,
        "version": 1,
        "status": status,
        "error": error,
        "provider": provider,
        "clips": [c.model_dump() for c in clips],
        **extra,
    }
