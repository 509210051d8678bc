"""What the benchmarks share: one engine per subprocess, its peak RSS, the JSON report.

A fresh process per engine makes model-load time and peak memory belong to that engine
alone; the worker prints one JSON line that the parent reads back.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak RSS; Linux keeps `ru_maxrss` across exec, so prefer VmHWM."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_from_worker(result: dict[str, Any]) -> None:
    """The worker's last line: its result plus its peak RSS and whether torch got imported."""
    print(
        json.dumps(
            {**result, "peak_rss_mb": peak_rss_mb(), "torch_imported": "torch" in sys.modules}
        )
    )


def run_worker(module: str, args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python -m module --worker ARGS` offline from the repository root, with `env` added;
    its result."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", module, "--worker", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {args} failed: {done.stderr.strip().splitlines()[-3:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_report(path: str | Path, report: dict[str, Any]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    print(f"wrote {path}")
