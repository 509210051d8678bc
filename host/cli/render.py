"""`clapsep render`, and the query and render options it shares with `clapsep batch`.

The options are resolved in one place (`build_request`): a preset gives the defaults,
explicit options replace the preset's matching parts (`--query`/`--query-audio`
replace its positive side, `--negative`/`--negative-audio` its negative side, and
`--stems`, `--atten-limit`, `--gain` its render options). The preset is resolved before
the model loads, so a mistyped option fails at once.

SIGTERM and SIGINT stop a render at its next block with its temp files removed
(`host.cli.stopping`), and each run first sweeps the output folders of the temp files that
renders killed outright left there.
"""

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from clapsep.errors import UserError
from clapsep.files import sweep_stale_temps
from clapsep.host.audio_io import Section
from clapsep.host.cli.options import add_engine_options, open_engine
from clapsep.host.cli.stopping import Stop, stop_on_signals
from clapsep.host.engine import Engine, RenderInput, RenderOutcome, RenderRequest, stem_records
from clapsep.host.presets import Preset, resolve_preset
from clapsep.host.render import CHANNEL_MODES, STEMS
from clapsep.host.windowing import Cancelled


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
        "--audio-weight",
        type=float,
        metavar="W",
        help="audio vs text weight when both are given (0..1)",
    )
    r = p.add_argument_group("render")
    add_engine_options(r)
    r.add_argument("--stems", metavar="LIST", help=f"comma-separated subset of {','.join(STEMS)}")
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


def _preset_for(args: argparse.Namespace) -> Preset:
    """The preset with the explicit query options laid over it."""
    base = resolve_preset(args.preset) if args.preset else None
    if base is None and not (
        args.query or args.query_audio or args.negative or args.negative_audio
    ):
        raise UserError("say what to isolate: --query TEXT, --query-audio FILE or --preset NAME")
    return Preset.with_query(
        base,
        args.query or "",
        args.query_audio,
        args.negative or "",
        args.negative_audio,
        args.audio_weight,
    )


def build_request(args: argparse.Namespace, jobs: int = 1) -> tuple[Engine, RenderRequest]:
    """Everything but the inputs: the engine and the prepared request (raises `UserError`)."""
    preset = _preset_for(args)
    section = None
    if getattr(args, "start", None) is not None or getattr(args, "end", None) is not None:
        section = Section(args.start or 0.0, args.end)
    engine = open_engine(args, cache=not args.no_cache, jobs=jobs)
    request = engine.prepare(
        preset,
        args.window,
        args.overlap,
        stems=tuple(s.strip() for s in args.stems.split(",")) if args.stems else None,
        atten_limit_db=args.atten_limit,
        gains_db=_parse_gains(args.gain),
        channel_mode=args.channel_mode,
        bit_depth=args.bit_depth,
        section=section,
        name_template=args.name_template,
        overwrite=getattr(args, "overwrite", False),
    )
    return engine, request


class _ProgressBar:
    """A one-line bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label, self.enabled, self.shown = label, enabled and sys.stderr.isatty(), -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.enabled and percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            sys.stderr.write(f"\r{self.label[:40]:<40} [{bar:<25}] {percent:3d}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.shown >= 0:
            sys.stderr.write("\n")
            self.shown = -1


def _run_render(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        return _render(args, stop)


def sweep_outputs(folders: Iterable[Path], started: float) -> None:
    """Remove the temp files that renders killed outright (before `started`) left in `folders`."""
    for folder in dict.fromkeys(folders):
        for path in sweep_stale_temps(folder, started):
            print(f"removed {path}, left by a render that was killed", file=sys.stderr)


def _render(args: argparse.Namespace, stop: Stop) -> int:
    started = time.time()
    for source in args.inputs:
        if not Path(source).is_file():
            raise UserError(f"input not found: {source}")
    if args.out and not Path(args.out).is_dir():
        raise UserError(f"output folder {args.out} does not exist")
    engine, request = build_request(args)
    if not args.json:
        print(
            f"model {engine.package.name} {engine.package.version}: "
            f"{engine.separator.provider_note}",
            file=sys.stderr,
        )
    sources = [Path(source) for source in args.inputs]
    bars = [_ProgressBar(source.name, not args.json) for source in sources]
    outputs: list[dict] = []

    def done(outcome: RenderOutcome) -> None:
        bars[outcome.index].close()
        records = stem_records(outcome.stems, outcome.cached)
        outputs.extend(records)
        if not args.json:
            for record in records:
                print(f"{record['path']}{'  (cached)' if outcome.cached else ''}")

    inputs = [
        RenderInput(source, Path(args.out) if args.out else source.parent) for source in sources
    ]
    sweep_outputs((item.out_dir for item in inputs), started)
    try:
        with stop.deferred():
            engine.render_many(
                request,
                inputs,
                lambda index, fraction: bars[index](fraction),
                cancel=stop,
                on_done=done,
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
                    "query": request.describe(),
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
