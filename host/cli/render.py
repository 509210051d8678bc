"""`clapsep render`, and the query and render options it shares with `clapsep batch`.

The options are resolved in one place (`build_request`): a preset gives the defaults,
explicit options replace the preset's matching parts (`--query`/`--query-audio`
replace its positive side, `--negative`/`--negative-audio` its negative side, and
`--stems`, `--atten-limit`, `--gain` its render options). `--split NAME=QUERY ...` (or a
split preset) renders several named stems and `rest` in one pass; `--query-span` and
`--negative-span` take example shots from the input itself. The preset is resolved and the
outputs are checked before the model loads, so a mistyped option or a taken output name
fails at once.

SIGTERM and SIGINT stop a render at its next block with its temp files removed
(`host.cli.stopping`), and each run first sweeps the output folders of the temp files that
renders killed outright left there.
"""

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from clapsep.errors import UserError
from clapsep.files import cannot_write, sweep_stale_temps
from clapsep.host.audio_io import Section, SourceReader
from clapsep.host.cli.options import add_engine_options, open_engine, take_preset_precision
from clapsep.host.cli.progress import ProgressBar
from clapsep.host.cli.stopping import Stop, stop_on_signals
from clapsep.host.engine import Engine, RenderInput, RenderOutcome, RenderRequest, stem_records
from clapsep.host.presets import Preset, SplitStem, resolve_preset
from clapsep.host.render import CHANNEL_MODES, DEFAULT_TEMPLATE, REST, STEMS, output_name
from clapsep.host.windowing import Cancelled

SPLIT_SLUG = "split"


def add_query_options(p: argparse.ArgumentParser) -> None:
    q = p.add_argument_group("query (a preset, and/or explicit options that replace its parts)")
    q.add_argument("--preset", metavar="NAME|FILE", help="library preset name or preset .json file")
    q.add_argument("--query", metavar="TEXT", help="what to isolate, in words")
    q.add_argument("--negative", metavar="TEXT", help="what to push into the residual, in words")
    q.add_argument(
        "--query-audio",
        metavar="FILE",
        action="append",
        default=[],
        help="example of the target (repeatable)",
    )
    q.add_argument(
        "--negative-audio",
        metavar="FILE",
        action="append",
        default=[],
        help="example of what to remove (repeatable)",
    )
    q.add_argument(
        "--query-span",
        metavar="START:END",
        action="append",
        default=[],
        help="seconds of the input where the target sounds alone, as an example (repeatable)",
    )
    q.add_argument(
        "--negative-span",
        metavar="START:END",
        action="append",
        default=[],
        help="seconds of the input holding what to remove, as an example (repeatable)",
    )
    q.add_argument(
        "--audio-weight",
        type=float,
        metavar="W",
        help="audio vs text weight when both are given (0..1)",
    )
    q.add_argument(
        "--split",
        metavar="NAME=QUERY",
        action="append",
        default=[],
        help="one stem of a split (repeat for each): NAME=text, NAME=@preset, "
        "NAME=audio:FILE or NAME=span:START:END; writes every NAME plus rest, which sum to "
        "the input",
    )
    q.add_argument(
        "--overlapping",
        action="store_true",
        help="a split's stems as independent targets (no shared-out bins, no rest)",
    )
    r = p.add_argument_group("render")
    add_engine_options(r)
    r.add_argument(
        "--stems",
        metavar="LIST",
        help=f"comma-separated subset of {','.join(STEMS)} (of a split: its names and rest)",
    )
    r.add_argument(
        "--atten-limit",
        type=float,
        metavar="DB",
        help="keep the input at -DB dB in the target (e.g. 12-24)",
    )
    r.add_argument(
        "--gain",
        action="append",
        default=[],
        metavar="STEM=DB",
        help="output gain of a stem (repeatable)",
    )
    r.add_argument("--channel-mode", choices=CHANNEL_MODES, default="independent")
    r.add_argument(
        "--bit-depth",
        type=int,
        choices=(24, 32),
        default=32,
        help="WAV: 24-bit integer or 32-bit float",
    )
    r.add_argument(
        "--window", type=float, metavar="S", help="window length in seconds (default: the model's)"
    )
    r.add_argument(
        "--overlap", type=float, metavar="S", help="window overlap in seconds (default: a fifth)"
    )
    r.add_argument(
        "--name-template",
        default=None,
        metavar="T",
        help="output name from {name} {section} {slug} {stem}",
    )
    r.add_argument("--no-cache", action="store_true", help="neither read nor fill the render cache")
    r.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _parse_gains(items: Sequence[str]) -> dict[str, float] | None:
    gains = {}
    for item in items:
        stem, _, value = item.partition("=")
        try:
            gains[stem.strip()] = float(value)
        except ValueError:
            raise UserError(f"--gain takes STEM=DB (e.g. residual=-6), got {item!r}") from None
    return gains or None


def parse_span(text: str, option: str = "--query-span") -> tuple[float, float]:
    """`START:END` seconds, checked."""
    start, colon, end = text.partition(":")
    try:
        span = (float(start), float(end))
    except ValueError:
        span = None
    if not colon or span is None or not 0 <= span[0] < span[1] or span[1] == float("inf"):
        raise UserError(f"{option} takes START:END seconds with START < END, got {text!r}")
    return span


def _split_stem(item: str) -> SplitStem:
    """One `--split NAME=QUERY`."""
    name, equals, query = (part.strip() for part in item.partition("="))
    if not equals or not name or not query:
        raise UserError(f"--split takes NAME=QUERY (e.g. dialogue=a person speaking), got {item!r}")
    if query.startswith("@"):
        preset = resolve_preset(query[1:])
        if preset.split:
            raise UserError(f"--split {name}=@{query[1:]}: that preset is itself a split")
        fields = {
            key: getattr(preset, key)
            for key in ("positive_text", "negative_text", "positive_audio", "negative_audio")
        }
        return SplitStem(name=name, **fields)
    if query.startswith("span:"):
        return SplitStem(name=name, positive_spans=(parse_span(query[5:], "--split NAME=span:"),))
    if query.startswith("audio:"):
        return SplitStem(name=name, positive_audio=(query[6:],))
    return SplitStem(name=name, positive_text=query)


def preset_for(args: argparse.Namespace) -> Preset:
    """The preset (or split) with the explicit query options laid over it."""
    base = resolve_preset(args.preset) if args.preset else None
    spans = [parse_span(s) for s in args.query_span]
    negative_spans = [parse_span(s, "--negative-span") for s in args.negative_span]
    query = args.query or args.query_audio or spans or args.negative or args.negative_audio
    if args.split:
        if query or negative_spans:
            raise UserError(
                "--split gives each stem its own query: drop --query/--negative and their audio "
                "and spans, or write them into a NAME=QUERY"
            )
        split = tuple(_split_stem(item) for item in args.split)
        if base is None:
            return Preset(name=SPLIT_SLUG, split=split)
        return replace(base, split=split, stems=(*(s.name for s in split), REST))
    if base is None and not (query or negative_spans):
        raise UserError(
            "say what to isolate: --query TEXT, --query-audio FILE, --query-span START:END, "
            "--split NAME=QUERY or --preset NAME"
        )
    if base is not None and base.split and (query or negative_spans):
        raise UserError(f"preset {base.name!r} is a split: its stems carry their own queries")
    return Preset.with_query(
        base,
        args.query or "",
        args.query_audio,
        args.negative or "",
        args.negative_audio,
        args.audio_weight,
        positive_spans=spans,
        negative_spans=negative_spans,
    )


def _section(args: argparse.Namespace) -> Section | None:
    if getattr(args, "start", None) is not None or getattr(args, "end", None) is not None:
        return Section(args.start or 0.0, args.end)
    return None


def _stems_option(args: argparse.Namespace) -> tuple[str, ...] | None:
    return tuple(s.strip() for s in args.stems.split(",")) if args.stems else None


def prepare_request(
    engine: Engine, args: argparse.Namespace, preset: Preset, span_source: Path | None = None
) -> RenderRequest:
    """The preset with the render options of `args`, prepared on `engine`."""
    return engine.prepare(
        preset,
        args.window,
        args.overlap,
        span_source,
        stems=_stems_option(args),
        atten_limit_db=args.atten_limit,
        gains_db=_parse_gains(args.gain),
        channel_mode=args.channel_mode,
        bit_depth=args.bit_depth,
        section=_section(args),
        name_template=args.name_template,
        overwrite=getattr(args, "overwrite", False),
        overlapping=args.overlapping or None,
    )


def build_request(args: argparse.Namespace, jobs: int = 1) -> tuple[Engine, RenderRequest]:
    """Everything but the inputs: the engine and the prepared request (raises `UserError`).
    Spans need an input to take their sound from: `clapsep render` prepares those per input."""
    preset = preset_for(args)
    if uses_spans(preset):
        raise UserError("span queries take their sound from each input: use clapsep render")
    take_preset_precision(args, preset)
    engine = open_engine(args, cache=not args.no_cache, jobs=jobs)
    return engine, prepare_request(engine, args, preset)


def uses_spans(preset: Preset) -> bool:
    sides = (preset, *preset.split)
    return any(side.positive_spans or side.negative_spans for side in sides)


def check_outputs_free(
    preset: Preset, args: argparse.Namespace, inputs: Sequence[RenderInput]
) -> None:
    """Refuse, before any model loads, an output name that exists (unless `--overwrite`)."""
    if getattr(args, "overwrite", False):
        return
    stems = _stems_option(args) or preset.stems
    template = args.name_template or DEFAULT_TEMPLATE
    section = _section(args)
    for item in inputs:
        span = source_span(item.source, section)[0] if section is not None else None
        for stem in stems:
            path = item.out_dir / output_name(
                item.source, preset.slug or "query", stem, template, span
            )
            if path.exists():
                raise UserError(f"{path} exists; pass --overwrite to replace it")


def _run_render(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        return _render(args, stop)


def sweep_outputs(folders: Iterable[Path], started: float) -> None:
    """Remove the temp files that renders killed outright (before `started`) left in `folders`."""
    for folder in dict.fromkeys(folders):
        for path in sweep_stale_temps(folder, started):
            print(f"removed {path}, left by a render that was killed", file=sys.stderr)


def source_span(source: Path, section: Section | None) -> tuple[tuple[int, int], float]:
    """The (first, stop) frames of `source` a render covers, and their length in seconds;
    `UserError` for a file that cannot be read."""
    with SourceReader(source, section) as reader:
        return (reader.first, reader.first + reader.frames), reader.frames / reader.sample_rate


def make_out_folder(out: str | None) -> Path | None:
    """`--out`, created if missing (its parent must exist: a typo never builds a tree)."""
    if not out:
        return None
    folder = Path(out).expanduser()
    if folder.is_dir():
        return folder
    if folder.exists():
        raise UserError(f"--out {out} is not a folder")
    if not folder.parent.is_dir():
        raise UserError(f"the parent of --out {out} does not exist ({folder.parent})")
    try:
        folder.mkdir()
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    return folder


def _render(args: argparse.Namespace, stop: Stop) -> int:
    started = time.time()
    for source in args.inputs:
        if not Path(source).is_file():
            raise UserError(f"input not found: {source}")
    preset = preset_for(args)
    sources = [Path(source) for source in args.inputs]
    out = make_out_folder(args.out)
    inputs = [RenderInput(source, out or source.parent) for source in sources]
    check_outputs_free(preset, args, inputs)
    take_preset_precision(args, preset)
    engine = open_engine(args, cache=not args.no_cache)
    if not args.json:
        print(
            f"model {engine.package.name} {engine.package.version}: "
            f"{engine.separator.provider_note}",
            file=sys.stderr,
        )
    # A span is a moment of each input: such a query is prepared once per input.
    per_input = uses_spans(preset)
    requests = [
        prepare_request(engine, args, preset, source if per_input else None)
        for source in (sources if per_input else sources[:1])
    ]
    bars = [
        ProgressBar(source.name, source_span(source, _section(args))[1], not args.json)
        for source in sources
    ]
    outputs: list[dict] = []

    def done(outcome: RenderOutcome) -> None:
        bars[outcome.index].close()
        records = stem_records(outcome.stems, outcome.cached)
        outputs.extend(records)
        if not args.json:
            for record in records:
                print(f"{record['path']}{'  (cached)' if outcome.cached else ''}")

    sweep_outputs((item.out_dir for item in inputs), started)
    try:
        with stop.deferred():
            for offset, (request, group) in enumerate(
                zip(requests, [[i] for i in inputs] if per_input else [inputs], strict=True)
            ):
                engine.render_many(
                    request,
                    group,
                    lambda index, fraction, o=offset: bars[index + o](fraction),
                    cancel=stop,
                    on_done=lambda outcome, o=offset: done(
                        replace(outcome, index=outcome.index + o)
                    ),
                )
    except Cancelled:
        stop.check()  # a signal: exit as it asks (the render removed its temp files)
        raise
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        print(
            json.dumps(
                {
                    "model": engine.describe(),
                    "provider": engine.provider,
                    "query": requests[0].describe()
                    if len(requests) == 1
                    else [r.describe() for r in requests],
                    "outputs": outputs,
                },
                indent=2,
            )
        )
    stop.check()  # a signal after the last block: the stems are whole, the exit status says it
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render",
        help="isolate a sound in audio files by text, audio example or preset",
        description="Write a target stem (what the query describes) and a residual stem "
        "(everything else, so target + residual = input) for each INPUT; the input is never "
        "modified. `clapsep render --job JOB` renders a DAW job file (as `clapsep job`) and "
        "`clapsep render --otio IN --out OUT` a timeline (as `clapsep otio`).",
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="audio files (wav, flac, aiff, mp3, ogg)"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default: beside each input)")
    p.add_argument("--start", type=float, metavar="S", help="render from S seconds into the file")
    p.add_argument("--end", type=float, metavar="S", help="render up to S seconds into the file")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_query_options(p)
    p.set_defaults(run=_run_render)
