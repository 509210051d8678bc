"""`clapsep job JOB.json`: the file mode for DAW scripts that cannot speak HTTP.

A script (REAPER, Ardour) writes a job file, starts this command in the background and
polls: `<result>.progress` holds the fraction done, a `<job>.cancel` file stops the
render (the script removes a stale one before starting), and the result manifest appears
atomically when the job ends, whatever the outcome (status done, failed or cancelled), so a
poller never waits forever.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.files import write_json_atomic, write_text_atomic
from clapsep.host.cli.options import add_engine_options, open_engine
from clapsep.host.presets import read_json
from clapsep.host.windowing import Cancelled
from clapsep.plugin_bridge.jobs import parse_job, result_manifest, run_job


def default_paths(job_file: Path) -> tuple[Path, Path]:
    """(stems folder, result manifest) beside the job file."""
    base = job_file.with_suffix("")
    return base.parent / f"{base.name}-stems", base.parent / f"{base.name}.result.json"


def cancel_file(job_file: Path) -> Path:
    return job_file.with_suffix(".cancel")


class _ProgressFile:
    """Writes the fraction done (two decimals) only when it changes."""

    def __init__(self, path: Path) -> None:
        self.path, self.shown = path, ""

    def __call__(self, fraction: float) -> None:
        text = f"{fraction:.2f}"
        if text != self.shown:
            self.shown = text
            write_text_atomic(self.path, text + "\n")


def run_job_file(
    job_file: Path,
    args: argparse.Namespace,
    out_dir: Path | None = None,
    result_file: Path | None = None,
) -> dict[str, Any]:
    """Render a job file and write its result manifest; returns the manifest."""
    default_out, default_result = default_paths(job_file)
    out_dir, result_file = out_dir or default_out, result_file or default_result
    result_file.unlink(missing_ok=True)
    stop = cancel_file(job_file)  # left in place: a stale one stops a rerun, which says so
    progress = _ProgressFile(result_file.with_name(result_file.name + ".progress"))
    manifest = result_manifest("failed")
    try:
        spec = parse_job(read_json(job_file))
        engine = open_engine(args)
        manifest["provider"] = engine.provider
        clips = run_job(engine, spec, out_dir, progress, stop.exists)
        failed = [c for c in clips if c.error]
        manifest = result_manifest(
            "failed" if failed else "done",
            clips,
            f"{len(failed)} clip(s) failed" if failed else None,
            engine.provider,
        )
    except Cancelled:
        manifest = result_manifest(
            "cancelled",
            error=f"cancelled: {stop} exists (delete it to run the job again)",
            provider=manifest["provider"],
        )
    except UserError as exc:
        manifest["error"] = str(exc)
    except Exception as exc:  # the script must hear of it instead of polling forever
        manifest["error"] = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        write_json_atomic(result_file, manifest)
    return manifest


def _run(args: argparse.Namespace) -> int:
    job_file = Path(args.job).expanduser()
    if not job_file.is_file():
        raise UserError(f"job file not found: {job_file}")
    manifest = run_job_file(
        job_file,
        args,
        Path(args.out).expanduser() if args.out else None,
        Path(args.result).expanduser() if args.result else None,
    )
    print(default_paths(job_file)[1] if args.result is None else args.result)
    if manifest["error"]:
        print(f"error: {manifest['error']}", file=sys.stderr)
    return {"done": 0, "cancelled": 130}.get(manifest["status"], 2)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "job",
        help="render a DAW job file (clips + query) and write a result manifest",
        description="Render every clip of a clapsep-job JSON file. Progress goes to "
        "RESULT.progress; creating JOB.cancel stops the render; RESULT (default "
        "JOB.result.json) always appears.",
    )
    p.add_argument("job", metavar="JOB", help="job file (format clapsep-job)")
    p.add_argument("--out", metavar="DIR", help="stems folder (default: JOB-stems beside the job)")
    p.add_argument("--result", metavar="FILE", help="result manifest (default: JOB.result.json)")
    add_engine_options(p)
    p.set_defaults(run=_run)
