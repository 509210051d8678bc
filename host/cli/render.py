"""`clapsep render`, and the query and render options it shares with `clapsep batch`.

The options are resolved in one place (`build_request`): a preset gives the defaults,
explicit options replace the preset's matching parts (`--query`/`--query-audio`
replace its positive side, `--negative`/`--negative-audio` its negative side, and
`--stems`, `--atten-limit`, `--gain` its render options). The engine (onnxruntime) is
imported only when a command runs, so `clapsep --help` stays instant.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clapsep.errors import UserError
from clapsep.host.audio_io import Section
from clapsep.host.presets import Preset, resolve_preset
from clapsep.host.render import CHANNEL_MODES, STEMS, RenderSettings

if TYPE_CHECKING:
    from clapsep.host.engine import Engine, Query


@dataclass(frozen=True)
class Request:
    """Parsed options: a loaded engine, the query and the settings, ready to run."""

    engine: "Engine"
    query: "Query"
    settings: RenderSettings


def add_query_options(p: argparse.ArgumentParser) -> None:
    q = p.add_argument_group("query (a preset, and/or explicit options that replace its parts)")
    q.add_argument("--preset", metavar="NAME|FILE", help="library preset name or preset .json file")
    q.add_argument("--query", metavar="TEXT", help="what to isolate, in words")
    q.add_argument("--negative", metavar="TEXT", help="what to push into the residual, in words")
    q.add_argument("--query-audio", metavar="FILE", action="append", default=[], help="example of the target (repeatable)")
    q.add_argument("--negative-audio", metavar="FILE", action="append", default=[], help="example of what to remove (repeatable)")
    q.add_argument("--audio-weight", type=float, metavar="W", help="audio vs text weight when both are given (0..1)")
    r = p.add_argument_group("render")
    r.add_argument("--model", metavar="PACKAGE", help="model package folder (default: the installed default)")
    r.add_argument("--device", choices=("auto", "cpu", "cuda", "tensorrt"), default="auto")
    r.add_argument("--stems", metavar="LIST", help=f"comma-separated subset of {','.join(STEMS)}")
    r.add_argument("--atten-limit", type=float, metavar="DB", help="keep the input at -DB dB in the target (e.g. 12-24)")
    r.add_argument("--gain", action="append", default=[], metavar="STEM=DB", help="output gain of a stem (repeatable)")
    r.add_argument("--channel-mode", choices=CHANNEL_MODES, default="independent")
    r.add_argument("--bit-depth", type=int, choices=(24, 32), default=32, help="WAV: 24-bit integer or 32-bit float")
    r.add_argument("--window", type=float, metavar="S", help="window length in seconds (default: the model's)")
    r.add_argument("--overlap", type=float, metavar="S", help="window overlap in seconds (default: a fifth)")
    r.add_argument("--name-template", default=None, metavar="T", help="output name from {name} {section} {slug} {stem}")
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
    pos = (args.query, tuple(args.query_audio)) if args.query or args.query_audio else None
    neg = (args.negative, tuple(args.negative_audio)) if args.negative or args.negative_audio else None
    if base is None and pos is None and neg is None:
        raise UserError("say what to isolate: --query TEXT, --query-audio FILE or --preset NAME")
    changes: dict[str, Any] = {}
    if pos:
        changes.update(positive_text=pos[0] or "", positive_audio=pos[1])
    if neg:
        changes.update(negative_text=neg[0] or "", negative_audio=neg[1])
    if args.audio_weight is not None:
        changes["audio_weight"] = args.audio_weight
    if base is None:
        words = (args.query or args.negative or "audio query").split()[:4]  # names the output files
        return Preset(name=" ".join(words), **changes)
    return replace(base, **changes)


def build_request(args: argparse.Namespace, jobs: int = 1) -> Request:
    """Everything but the inputs: preset, engine, query and settings (raises `UserError`)."""
    from clapsep.host.engine import Engine, Query, preset_settings
    from clapsep.host.render_cache import RenderCache
    from clapsep.host.runtime.sessions import usable_cores

    if args.model and not Path(args.model).expanduser().is_dir():
        raise UserError(f"model package not found: {args.model}")
    preset = _preset_for(args)
    stems = tuple(s.strip() for s in args.stems.split(",")) if args.stems else None
    section = None
    if getattr(args, "start", None) is not None or getattr(args, "end", None) is not None:
        section = Section(args.start or 0.0, args.end)
    kwargs = preset_settings(
        preset, stems=stems, atten_limit_db=args.atten_limit, gains_db=_parse_gains(args.gain),
        channel_mode=args.channel_mode, bit_depth=args.bit_depth, section=section,
        name_template=args.name_template, overwrite=getattr(args, "overwrite", False))
    cache = None if args.no_cache else RenderCache()
    engine = Engine(Path(args.model).expanduser() if args.model else None, args.device, cache,
                    threads=max(1, usable_cores() // jobs))
    settings = engine.settings(args.window, args.overlap, **kwargs)
    return Request(engine, Query.from_preset(preset), settings)


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


def _run_render(args: argparse.Namespace) -> int:
    from clapsep.host.engine import stem_records

    for source in args.inputs:
        if not Path(source).is_file():
            raise UserError(f"input not found: {source}")
    if args.out and not Path(args.out).is_dir():
        raise UserError(f"output folder {args.out} does not exist")
    request = build_request(args)
    engine = request.engine
    condition = engine.condition(request.query)
    if not args.json:
        print(f"model {engine.package.name} {engine.package.version}: {engine.separator.provider_note}", file=sys.stderr)
    outputs = []
    for source in map(Path, args.inputs):
        bar = _ProgressBar(source.name, not args.json)
        try:
            rendered, cached = engine.render(source, Path(args.out) if args.out else source.parent, request.query,
                                             request.settings, bar, condition=condition)
        finally:
            bar.close()
        records = stem_records(rendered, cached)
        outputs += records
        if not args.json:
            for record in records:
                print(f"{record['path']}{'  (cached)' if cached else ''}")
    if args.json:
        print(json.dumps({"model": engine.describe(), "provider": engine.provider,
                          "query": request.query.describe(), "outputs": outputs}, indent=2))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "render", help="isolate a sound in audio files by text, audio example or preset",
        description="Write a target stem (what the query describes) and a residual stem (everything else, "
                    "so target + residual = input) for each INPUT; the input is never modified. "
                    "`clapsep render --job JOB` renders a DAW job file (as `clapsep job`) and "
                    "`clapsep render --otio IN --out OUT` a timeline (as `clapsep otio`).")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files (wav, flac, aiff, mp3, ogg)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: beside each input)")
    p.add_argument("--start", type=float, metavar="S", help="render from S seconds into the file")
    p.add_argument("--end", type=float, metavar="S", help="render up to S seconds into the file")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    add_query_options(p)
    p.set_defaults(run=_run_render)

