"""`clapsep ui`: open the panel. Qt is imported only when the command runs.

The `clapsep render` command line the panel builds for span renders is `render_command`
(`ui.render_args`, re-exported here).
"""

import argparse
import sys

from clapsep.host.cli.options import (
    INTERACTIVE_ENCODED_CACHE_MB,
    add_engine_options,
    engine_loader,
)
from clapsep.ui.render_args import clapsep_executable, render_command

__all__ = ["clapsep_executable", "register", "render_command"]


def _run_ui(args: argparse.Namespace) -> int:
    from PyQt6.QtWidgets import QApplication

    from clapsep.ui.app import MainWindow
    from clapsep.ui.bridge_jobs import JobFolder

    load = engine_loader(  # checks the package now; a re-render under another preset
        args.model,  # of a clip it has encoded runs only the decoder
        args.device,
        precision=args.precision,
        encoded_cache_mb=INTERACTIVE_ENCODED_CACHE_MB,
    )
    app = QApplication(sys.argv[:1])
    app.setApplicationName("clapsep studio")
    window = MainWindow(load, jobs=JobFolder())
    window.show()
    return app.exec()


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ui",
        help="open the panel: presets, clips, render with progress, before/after view",
        description="The desktop panel. Drop clips, pick or edit a preset, render, compare and "
        "audition. Jobs sent by DAWs through the bridge appear in its clip list.",
    )
    add_engine_options(p)
    p.set_defaults(run=_run_ui)
