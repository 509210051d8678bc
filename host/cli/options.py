"""`--model`/`--device`/`--precision`, the options of every command that renders, and the one
place an `Engine` is built from them.

`clapsep render`, `batch`, `serve`, `job`, `otio`, `audacity` and `ui` all take these two
options and build their engine here, so a device name or a package check means the same
everywhere; the device names are the runtime's own (`sessions.DEVICES`).
"""

import argparse
from collections.abc import Callable
from pathlib import Path

from clapsep.errors import UserError
from clapsep.host.engine import Engine
from clapsep.host.presets import Preset
from clapsep.host.render_cache import RenderCache
from clapsep.host.runtime.sessions import DEVICES, PRECISIONS, usable_cores


def add_engine_options(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--model", metavar="PACKAGE", help="model package folder (default: the installed default)"
    )
    parser.add_argument("--device", choices=tuple(DEVICES), default="auto")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="bf16: the separator on OpenVINO's CPU plugin (the [openvino] extra; CPUs with "
        "AVX512-BF16 or AMX), several times faster within a measured quality gate "
        "(docs/benchmarks.md); auto: bf16 where it runs and its gate held for the package "
        "(default: the preset's precision, else fp32)",
    )


INTERACTIVE_ENCODED_CACHE_MB = 512  # the panel and the service: a few clips' encoded windows


def engine_loader(
    model: str | None,
    device: str,
    *,
    cache: bool = True,
    jobs: int = 1,
    precision: str | None = None,
    encoded_cache_mb: int = 0,
) -> Callable[[], Engine]:
    """Check the package folder now; return the slow part, the load, for later.

    The panel runs the load off its UI thread. `cache`: render through the render cache;
    `jobs`: how many renders share the cores (each session gets its share of them);
    `encoded_cache_mb`: memory for encoded windows, for front ends that re-render a clip
    under another query (the panel, the service); `precision` None is fp32.
    """
    package = Path(model).expanduser() if model else None
    if package is not None and not package.is_dir():
        raise UserError(f"model package not found: {model}")
    threads = max(1, usable_cores() // jobs)
    return lambda: Engine(
        package,
        device,
        RenderCache() if cache else None,
        threads=threads,
        precision=precision or "fp32",
        encoded_cache_mb=encoded_cache_mb,
    )


def take_preset_precision(args: argparse.Namespace, preset: Preset) -> None:
    """A preset's precision stands in for a `--precision` the command line left out."""
    if getattr(args, "precision", None) is None:
        args.precision = preset.precision


def open_engine(
    args: argparse.Namespace, *, cache: bool = True, jobs: int = 1, encoded_cache_mb: int = 0
) -> Engine:
    """The engine that `--model`, `--device` and `--precision` name, loaded."""
    precision = getattr(args, "precision", None)
    load = engine_loader(
        args.model,
        args.device,
        cache=cache,
        jobs=jobs,
        precision=precision,
        encoded_cache_mb=encoded_cache_mb,
    )
    return load()
