"""`clapsep batch`: render a folder tree or a list of files, resumably, failure by failure.

Each input's stems go to `--out`, mirroring the input's sub-folder. Beside each stem it
writes, the batch keeps a hidden record (`.<stem file>.clapsep.json`) of what produced
it: the render recipe (model identity, which covers the package digest and the query's
condition, and every setting that shapes samples) and the source (size, mtime, digest).
An input whose stems all exist with records matching this run is skipped; any other (a
stem missing, left by a killed run, or one made with another query, attenuation limit or
model, or from a since-changed source) is rendered again over its stems. A failing input
is recorded and the batch goes on; the summary (a table, or JSON with `--json`, and always
`clapsep-batch-summary.json` in `--out`) says what happened to each.

`--out` may lie inside the searched folder (or be it): the search leaves out everything
under an `--out` below the searched folder and every file that a batch wrote (it has a
record) or that this run would write, so a re-run never renders its own outputs.

SIGTERM and SIGINT stop the batch at the next block of each render, with its temp files
removed and the summary written (`host.cli.stopping`); each run first sweeps the output
folders of the temp files that runs killed outright left there.

Workers are threads sharing one engine (`Engine.render_many(workers=N)`): onnxruntime
sessions are thread-safe, the model is loaded once, and each worker's share of the cores
sizes the session's intra-op pool. On 2 cores `--jobs 2` overlaps one file's decoding
and resampling with another's inference; separate processes would only duplicate the
model in memory. `--ray [ADDRESS]` renders the same plan on Ray actors instead
(`host.cli.cluster_batch`); everything else here is the same.
"""

import argparse
import contextlib
import itertools
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.files import cannot_write, write_json_atomic
from clapsep.host.audio_io import AUDIO_SUFFIXES
from clapsep.host.cli.cluster_batch import add_cluster_options, driver_args, render_on_ray
from clapsep.host.cli.progress import BatchProgress
from clapsep.host.cli.render import (
    add_query_options,
    build_request,
    source_span,
    sweep_outputs,
)
from clapsep.host.cli.stopping import Stop, stop_on_signals
from clapsep.host.engine import RenderInput, RenderOutcome, RenderRequest, stem_records
from clapsep.host.render import output_name
from clapsep.host.render_cache import file_digest, render_recipe
from clapsep.host.windowing import Cancelled

SUMMARY_FILE = "clapsep-batch-summary.json"
RECORD_SUFFIX = ".clapsep.json"
RECORD_VERSION = 1


@dataclass
class FileResult:
    """What happened to one input: rendered, cached, skipped, failed or cancelled."""

    input: str
    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    internal: bool = False
    seconds: float = 0.0


def find_audio(target: Path, out: Path | None = None) -> list[tuple[Path, Path]]:
    """(file, its folder relative to the batch root) for a folder tree or a list file.

    In a folder tree, files under `out` (when it lies below `target`) and stems a batch
    wrote (those with a record beside them) are left out.
    """
    if target.is_dir():
        root, outputs = target.resolve(), None if out is None else out.resolve()
        if outputs is not None and (outputs == root or not outputs.is_relative_to(root)):
            outputs = None  # only an --out strictly below the tree is left out whole
        return [
            (p, p.parent.relative_to(target))
            for p in sorted(target.rglob("*"))
            if p.suffix.lower() in AUDIO_SUFFIXES
            and p.is_file()
            and not p.name.startswith(".")
            and not record_path(p).is_file()
            and not (outputs is not None and p.resolve().is_relative_to(outputs))
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


def record_path(stem: Path) -> Path:
    """The hidden record beside a stem a batch wrote: what produced it."""
    return stem.with_name(f".{stem.name}{RECORD_SUFFIX}")


def _expected(request: RenderRequest, source: Path, out_dir: Path) -> list[Path]:
    settings = request.settings
    return [
        out_dir / output_name(source, request.query_slug, stem, settings.name_template)
        for stem in settings.stems
    ]


def _own_outputs(request: RenderRequest, files: list[tuple[Path, Path]], out: Path) -> set[Path]:
    """Found files that this run writes: the stems of inputs whose output folder is their own."""
    found = {source.resolve() for source, _ in files}
    names = {
        (out / rel / output_name(source, request.query_slug, stem, request.settings.name_template))
        for source, rel in files
        if (out / rel).resolve() == source.parent.resolve()
        for stem in request.settings.stem_names
    }
    return {path.resolve() for path in names} & found


def _recipe(request: RenderRequest, item: RenderInput) -> Any:
    recipe = render_recipe(request.settings_for(item), request.model_identity)
    return json.loads(json.dumps(recipe))  # as a record reads back: tuples are lists


def _source_stat(source: Path) -> dict[str, int] | None:
    try:
        st = source.stat()
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _record_matches(stem: Path, recipe: Any, source: Path) -> bool:
    """Whether `stem` exists with a record saying this recipe made it from `source` as it is."""
    try:
        record = json.loads(record_path(stem).read_text(encoding="utf-8"))
        if (
            not isinstance(record, dict)
            or record.get("version") != RECORD_VERSION
            or record.get("recipe") != recipe
            or record.get("output", {}).get("size") != stem.stat().st_size
        ):
            return False
        was, now = record.get("source", {}), _source_stat(source)
        if now is None or was.get("size") != now["size"]:
            return False
        # an unchanged mtime vouches for the bytes; a touched file is hashed again
        return was.get("mtime_ns") == now["mtime_ns"] or was.get("blake2b") == file_digest(source)
    except (OSError, ValueError, AttributeError):
        return False


def _resume(request: RenderRequest, source: Path, out_dir: Path) -> FileResult | RenderInput:
    """Skipped when every stem exists, made by this run's recipe from the source as it is;
    else the input, rendered over whatever stems are there."""
    settings = request.settings
    expected = _expected(request, source, out_dir)
    item = RenderInput(source, out_dir)
    recipe = _recipe(request, item)
    if all(_record_matches(p, recipe, source) for p in expected):
        return FileResult(
            str(source),
            "skipped",
            [{"stem": s, "path": str(p)} for s, p in zip(settings.stems, expected, strict=True)],
        )
    for path in expected:  # a render killed over old stems must not leave their records standing
        with contextlib.suppress(OSError):  # none, or a folder it cannot be in: the render says
            record_path(path).unlink()
    return RenderInput(source, out_dir, overwrite=any(p.exists() for p in expected))


def _write_records(
    request: RenderRequest, outcome: RenderOutcome, before: dict[str, int] | None
) -> None:
    """Record what produced each stem of a finished input (raises `UserError` if it cannot)."""
    source = outcome.input.source
    if before is None or _source_stat(source) != before:
        return  # the source changed while it rendered: no record, so the next run renders it
    try:
        described = {**before, "path": str(source), "blake2b": file_digest(source)}
    except OSError:
        return
    recipe = _recipe(request, outcome.input)
    for stem in outcome.stems:
        record = record_path(stem.path)
        try:
            data = {
                "version": RECORD_VERSION,
                "stem": stem.stem,
                "recipe": recipe,
                "query": request.describe(),
                "source": described,
                "output": {"size": stem.path.stat().st_size},
            }
            write_json_atomic(record, data)
        except OSError as exc:
            raise cannot_write(record, exc) from None


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


def _out_folder(value: str) -> Path:
    out = Path(value).expanduser()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a folder; name a folder (created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    return out


def _audio_seconds(item: RenderInput) -> float:
    """The input's length for the progress bar (0 for a file its render will report)."""
    try:
        return source_span(item.source, item.section)[1]
    except UserError:
        return 0.0


def run_batch(args: argparse.Namespace) -> int:
    with stop_on_signals() as stop:
        return _batch(args, stop)


def _batch(args: argparse.Namespace, stop: Stop) -> int:
    started = time.time()
    files = find_audio(Path(args.target).expanduser(), Path(args.out).expanduser())
    if not files:
        raise UserError(
            f"no audio files ({', '.join(sorted(AUDIO_SUFFIXES))}) found in {args.target}"
        )
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    out = _out_folder(args.out)
    jobs = min(args.jobs, len(files))
    resolved = args if args.ray is None else driver_args(args)
    engine, request = build_request(resolved, jobs)
    args.precision = resolved.precision  # the preset's, when --precision was left out
    own = _own_outputs(request, files, out)
    files = [(source, rel) for source, rel in files if source.resolve() not in own]
    results: dict[int, FileResult] = {}
    seen: dict[tuple[Path, str], Path] = {}
    skipped, inputs, positions, stats = [], [], [], []
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
            stats.append(_source_stat(source))
    sweep_outputs([out, *(item.out_dir for item in inputs)], started)
    total, numbers = len(skipped) + len(inputs), itertools.count(1)
    bar = BatchProgress([_audio_seconds(item) for item in inputs], not args.json)

    def report(result: FileResult) -> None:
        number = next(numbers)
        if not args.json:
            bar.write(f"[{number}/{total}] {result.status:<9} {result.input}")

    for result in skipped:
        report(result)

    def done(outcome: RenderOutcome) -> None:
        result = _file_result(outcome)
        if outcome.error is None:
            try:
                _write_records(request, outcome, stats[outcome.index])
            except UserError as exc:
                result = replace(result, status="failed", error=str(exc))
        results[positions[outcome.index]] = result
        bar(outcome.index, 1.0)
        report(result)

    cluster = None
    with stop.deferred(), contextlib.closing(bar):
        if args.ray is not None:  # the same renders on Ray actors (host.cli.cluster_batch)
            cluster = render_on_ray(args, engine, request, inputs, cancel=stop, on_done=done)
        else:
            engine.render_many(
                request,
                inputs,
                bar,
                cancel=stop,
                on_done=done,
                workers=jobs,
                keep_going=(Exception,),
            )
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
    if cluster is not None:
        summary["cluster"] = cluster
    unwritten = None
    try:
        write_json_atomic(out / SUMMARY_FILE, summary)
    except OSError as exc:  # the results are still printed; the failure is the exit status
        unwritten = cannot_write(out / SUMMARY_FILE, exc)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_table(ordered, sys.stdout)
        print(" ".join(f"{k}: {v}" for k, v in counts.items()), file=sys.stdout)
    stop.check()  # a signal stopped it: the cancelled files are in the summary
    if unwritten is not None:
        raise unwritten
    failed = [r for r in ordered if r.status in ("failed", "cancelled")]
    return 0 if not failed else 1 if any(r.internal for r in failed) else 2


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="render every audio file of a folder tree or a list; resumable",
        description="Render each audio file under DIR (recursively) or listed in a text file "
        "into --out, mirroring sub-folders. Files whose stems all exist, made with the same "
        "query, settings and model from the unchanged source, are skipped, so an interrupted "
        "batch resumes; a failing file does not stop the others. Exit status 0 when every file "
        "succeeded, else 2 (bad inputs) or 1 (internal errors).",
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
    add_cluster_options(p)
    p.set_defaults(run=run_batch)
