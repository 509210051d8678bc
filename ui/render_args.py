"""The `clapsep render` command line for a panel clip: its in/out and its marked spans.

Spans are seconds of the input file: target spans become `--query-span START:END`,
remove spans `--negative-span START:END` (both repeatable).
"""

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clapsep.ui.timeline import Span


def clapsep_executable() -> str:
    """The `clapsep` script of this environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("clapsep")
    return str(beside) if beside.is_file() else "clapsep"


def render_command(
    source: Path,
    preset_file: Path,
    out_dir: Path,
    section: tuple[float, float] | None = None,
    spans: Sequence["Span"] = (),
    model: Path | None = None,
    device: str | None = None,
) -> list[str]:
    """The `clapsep render` command line the panel runs for a clip with marked spans.

    `section` is the clip's in/out and `spans` are in seconds of the input file: target
    spans become `--query-span START:END`, remove spans `--negative-span START:END`.
    """
    argv = [clapsep_executable(), "render", str(source)]
    argv += ["--preset", str(preset_file), "--out", str(out_dir), "--overwrite", "--json"]
    if section is not None:
        argv += ["--start", f"{section[0]:g}", "--end", f"{section[1]:g}"]
    for span in spans:
        flag = "--query-span" if span.kind == "target" else "--negative-span"
        argv += [flag, f"{span.start:g}:{span.end:g}"]
    if model is not None:
        argv += ["--model", str(model)]
    if device is not None:
        argv += ["--device", device]
    return argv
