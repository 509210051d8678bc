"""`clapsep ui`: open the panel. Qt is imported only when the command runs."""

import argparse
import sys
from pathlib import Path

from clapsep.errors import UserError


def _run_ui(args: argparse.Namespace) -> int:
    from PyQt6.QtWidgets import QApplication

    from clapsep.ui.app import MainWindow
    from clapsep.ui.bridge_jobs import JobFolder

    package = Path(args.model).expanduser() if args.model else None
    if package is not None and not package.is_dir():
        raise UserError(f"model package not found: {args.model}")
    app = QApplication(sys.argv[:1])
    app.setApplicationName("clapsep studio")
    window = MainWindow(package, args.device, jobs=JobFolder())
    window.show()
    return app.exec()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ui", help="open the panel: presets, clips, render with progress, before/after view",
        description="The desktop panel. Drop clips, pick or edit a preset, render, compare and audition. "
                    "Jobs sent by DAWs through the bridge appear in its clip list.")
    p.add_argument("--model", metavar="PACKAGE", help="model package folder (default: the installed default)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "tensorrt"), default="auto")
    p.set_defaults(run=_run_ui)
