"""`clapsep ui`: open the panel. Qt is imported only when the command runs.

The `clapsep render` command line the panel builds for span renders is `render_command`
(`ui.render_args`, re-exported here).
"""

import argparse
import sys
from collections.abc import Callable

from clapsep.host.cli.options import (
    INTERACTIVE_ENCODED_CACHE_MB,
    add_engine_options,
    engine_loader,
)
from clapsep.host.engine import Engine
from clapsep.ui.render_args import clapsep_executable, render_command

__all__ = ["clapsep_executable", "register", "render_command"]


def _run_ui(args: argparse.Namespace) -> int:
    from PyQt6.QtWidgets import QApplication

    from clapsep.ui.app import PANEL_PRECISIONS, MainWindow, default_settings
    from clapsep.ui.bridge_jobs import JobFolder

    def reload(precision: str | None) -> Callable[[], Engine]:
        """Checks the package now, loads later; the engine keeps encoded windows, so a
        re-render of a clip under another preset runs only the decoder."""
        return engine_loader(
            args.model,
            args.device,
            precision=precision,
            encoded_cache_mb=INTERACTIVE_ENCODED_CACHE_MB,
        )

    settings = default_settings()
    saved = settings.value("precision")  # the panel's last Precision choice
    load = reload(args.precision or (str(saved) if saved in PANEL_PRECISIONS else None))
    app = QApplication(sys.argv[:1])
    app.setApplicationName("clapsep studio")
    window = MainWindow(load, settings=settings, jobs=JobFolder(), reload=reload)
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
