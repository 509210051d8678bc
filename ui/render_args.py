"""The `clapsep` command lines the panel runs as child processes.

`clapsep render` for a panel clip with its in/out and its marked spans: spans are seconds
of the input file, target spans become `--query-span START:END`, remove spans
`--negative-span START:END` (both repeatable). `clapsep audacity` for the DAW selection.
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
    engine_flags: Sequence[str] = (),
) -> list[str]:
    """The `clapsep render` command line the panel runs for a clip with marked spans.

    `section` is the clip's in/out and `spans` are in seconds of the input file: target
    spans become `--query-span START:END`, remove spans `--negative-span START:END`.
    `engine_flags` (`render_worker.engine_flags`) name the panel's own package, device and
    precision.
    """
    argv = [clapsep_executable(), "render", str(source)]
    argv += ["--preset", str(preset_file), "--out", str(out_dir), "--overwrite", "--json"]
    if section is not None:
        argv += ["--start", f"{section[0]:g}", "--end", f"{section[1]:g}"]
    for span in spans:
        flag = "--query-span" if span.kind == "target" else "--negative-span"
        argv += [flag, f"{span.start:g}:{span.end:g}"]
    return argv + list(engine_flags)


def audacity_command(preset: str | None, engine_flags: Sequence[str] = ()) -> list[str]:
    """`clapsep audacity --status` (preset None: what Audacity has selected, as JSON) or
    `clapsep audacity --preset NAME --json` (render the selection; progress as JSON lines)."""
    argv = [clapsep_executable(), "audacity"]
    if preset is None:
        return [*argv, "--status"]
    return [*argv, "--preset", preset, "--json", *engine_flags]
