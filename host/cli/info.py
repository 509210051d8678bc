"""Sub-commands that belong to the host itself (no torch, no Qt)."""

import argparse
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from clapsep.paths import default_model_dir

_REPORTED_PACKAGES = (
    "clapsep-studio",
    "numpy",
    "onnxruntime",
    "onnxruntime-gpu",
    "pedalboard",
    "tokenizers",
    "opentimelineio",
    "PyQt6",
    "torch",
    "laion-clap",
    "peft",
    "onnx",
)


def _installed_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _gpu_report() -> dict[str, dict[str, Any]]:
    """Per GPU device: whether it can run here and, when not, exactly why and how to get it."""
    from clapsep.host.runtime.sessions import CUDA, TENSORRT, gpu_problem

    report = {}
    for device, provider in (("cuda", CUDA), ("tensorrt", TENSORRT)):
        problem = gpu_problem(provider)
        report[device] = {
            "usable": problem is None,
            "why_not": problem.reason if problem else None,
            "fix": problem.fix if problem else None,
        }
    return report


def collect_info() -> dict[str, Any]:
    """Versions, onnxruntime providers, GPU readiness and model location, without torch."""
    import onnxruntime

    versions = {name: _installed_version(name) for name in _REPORTED_PACKAGES}
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {k: v for k, v in versions.items() if v is not None},
        "onnxruntime_providers": onnxruntime.get_available_providers(),
        "gpu": _gpu_report(),
        "train_extra_installed": versions["torch"] is not None,
        "default_model_dir": str(default_model_dir()),
    }


def _run_info(args: argparse.Namespace) -> int:
    info = collect_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(
        f"clapsep-studio {info['versions'].get('clapsep-studio', '?')} on Python {info['python']}"
    )
    print(f"platform: {info['platform']}")
    for name, ver in info["versions"].items():
        print(f"  {name:<16} {ver}")
    print(f"onnxruntime providers: {', '.join(info['onnxruntime_providers'])}")
    for device, gpu in info["gpu"].items():
        if gpu["usable"]:
            print(f"{device}: usable")
        else:
            print(f"{device}: not usable, {gpu['why_not']}\n  to get it: {gpu['fix']}")
    print(f"training extra: {'installed' if info['train_extra_installed'] else 'not installed'}")
    print(f"default model dir: {info['default_model_dir']}")
    return 0


def register_info(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("info", help="versions, execution providers and model location")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=_run_info)
