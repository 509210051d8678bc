"""`clapsep batch`: render a folder tree or a list of files, resumably, failure by failure.

Each input's stems go to `--out`, mirroring the input's sub-folder. An input whose
stems all exist is skipped (stems are written atomically, so existing means finished);
one with only some of them, left by a killed run, is rendered again over them. A
failing input is recorded and the batch goes on; the summary (a table, or JSON with
`--json`, and always `clapsep-batch-summary.json` in `--out`) says what happened to each.

Workers are threads sharing one engine (`Engine.render_many(workers=N)`): onnxruntime
sessions are thread-safe, the model is loaded once, and each worker's share of the cores
sizes the session's intra-op pool. On 2 cores `--jobs 2` overlaps one file's decoding
and resampling with another's inference; separate processes would only duplicate the
model in memory.
"""

import argparse
import itertools
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.files import write_json_atomic
from clapsep.host.audio_io import AUDIO_SUFFIXES
from clapsep.host.cli.render import add_query_options, build_request
from clapsep.host.engine import RenderInput, RenderOutcome, RenderRequest, stem_records
from clapsep.host.render import output_name
from clapsep.host.windowing import Cancelled

SUMMARY_FILE = "clapsep-batch-summary.json"


@dataclass
class FileResult:
    """What happened to one input: rendered, cached, skipped, failed or cancelled."""

    input: str
    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    internal: bool = False
    seconds: float = 0.0


def find_audio(target: Path) -> list[tuple[Path, Path]]:
    """(file, its folder relative to the batch root) for a folder tree or a list file."""
    if target.is_dir():
        return [
            (p, p.parent.relative_to(target))
            for p in sorted(target.rglob("*"))
            if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file() and not p.name.startswith(".")
        ]
    if target.is_file() and target.suffix.lower() not in AUDIO_SUFFIXES:
        lines = target.read_text(encoding="utf-8").splitlines()
        return [
            (Path(line.strip()).expanduser(), Path())
            for line in lines
            if line.strip() and not line.lstrip().startswith("#")
        ]
    raise UserError(
        f"{target} is neither a folder nor a text file listing audio files (one path a line)"
    )


def _resume(request: RenderRequest, source: Path, out_dir: Path) -> FileResult | RenderInput:
    """Skipped when every stem exists; else the input, rendered over the stems a killed run left."""
    settings = request.settings
    expected = [
        out_dir / output_name(source, request.query_slug, stem, settings.name_template)
        for stem in settings.stems
    ]
    if all(p.exists() for p in expected):
        return FileResult(
            str(source),
            "skipped",
            [{"stem": s, "path": str(p)} for s, p in zip(settings.stems, expected, strict=True)],
        )
    return RenderInput(source, out_dir, overwrite=any(p.exists() for p in expected))


def _file_result(outcome: RenderOutcome) -> FileResult:
    source, error = str(outcome.input.source), outcome.error
    if isinstance(error, UserError):
        result = FileResult(source, "failed", error=str(error))
    elif isinstance(error, Cancelled):
        result = FileResult(source, "cancelled", error="cancelled")
    elif error is not None:  # one broken file must not stop the batch; reported as internal
        result = FileResult(
            source, "failed", error=f"{type(error).__name__}: {error}", internal=True
        )
    else:
        status = "cached" if outcome.cached else "rendered"
        result = FileResult(source, status, stem_records(outcome.stems, outcome.cached))
    result.seconds = round(outcome.seconds, 3)
    return result


def _print_table(results: list[FileResult], out: Any) -> None:
    width = max([len(r.input) for r in results] + [5])
    print(f"{'status':<10} {'seconds':>8}  {'input':<{width}}  detail", file=out)
    for r in results:
        detail = r.error or f"{len(r.outputs)} stem(s)"
        print(f"{r.status:<10} {r.seconds:>8.1f}  {r.input:<{width}}  {detail}", file=out)


def run_batch(args: argparse.Namespace) -> int:
    files = find_audio(Path(args.target).expanduser())
    if not files:
        raise UserError(
            f"no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) found in {args.target}"
        )
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    jobs = min(args.jobs, len(files))
    engine, request = build_request(args, jobs)
    results: dict[int, FileResult] = {}
    seen: dict[tuple[Path, str], Path] = {}
    skipped, inputs, positions = [], [], []
    for i, (source, rel) in enumerate(files):
        key = (out / rel, source.stem.casefold())
        if key in seen:  # two list entries would write the same stems
            results[i] = FileResult(
                str(source), "failed", error=f"same output names as {seen[key]}"
            )
            continue
        seen[key] = source
        planned = _resume(request, source, out / rel)
        if isinstance(planned, FileResult):
            results[i] = planned
            skipped.append(planned)
        else:
            inputs.append(planned)
            positions.append(i)
    total, numbers = len(skipped) + len(inputs), itertools.count(1)

    def report(result: FileResult) -> None:
        number = next(numbers)
        if not args.json:
            print(f"[{number}/{total}] {result.status:<9} {result.input}", file=sys.stderr)

    for result in skipped:
        report(result)

    def done(outcome: RenderOutcome) -> None:
        results[positions[outcome.index]] = result = _file_result(outcome)
        report(result)

    engine.render_many(request, inputs, on_done=done, workers=jobs, keep_going=(Exception,))
    ordered = [results[i] for i in sorted(results)]
    counts = {
        s: sum(r.status == s for r in ordered)
        for s in ("rendered", "cached", "skipped", "failed", "cancelled")
    }
    summary = {
        "model": engine.describe(),
        "provider": engine.provider,
        "out": str(out),
        "counts": counts,
        "files": [asdict(r) for r in ordered],
    }
    write_json_atomic(out / SUMMARY_FILE, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_table(ordered, sys.stdout)
        print(" ".join(f"{k}: {v}" for k, v in counts.items()), file=sys.stdout)
    failed = [r for r in ordered if r.status in ("failed", "cancelled")]
    return 0 if not failed else 1 if any(r.internal for r in failed) else 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="render every audio file of a folder tree or a list; resumable",
        description="Render each audio file under DIR (recursively) or listed in a text file "
        "into --out, mirroring sub-folders. Files whose stems all exist are skipped, so an "
        "interrupted batch resumes; a failing file does not stop the others. Exit status 0 when "
        "every file succeeded, else 2 (bad inputs) or 1 (internal errors).",
    )
    p.add_argument(
        "target", metavar="DIR_OR_LIST", help="folder to search, or a text file of paths"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="files rendered at once (threads sharing the model)",
    )
    add_query_options(p)
    p.set_defaults(run=run_batch)
