"""`python -m clapsep.ui.screenshot --model PACKAGE --out docs/panel.png`: the panel with a
rendered clip.

Makes a real clip (espeak-ng speech over noise), renders it through the real host with
the "Dialogue" preset, selects it and grabs the window. The user data folder is a
temporary one, so the user's presets, cache and layout are left alone.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pedalboard.io import AudioFile

from clapsep.errors import UserError

SPEECH = "Dialogue isolation keeps the voice and moves the noise into the residual stem."


def make_clip(path: Path, noise_db: float = -26.0, seed: int = 0) -> Path:
    """Speech from espeak-ng with pink-ish noise under it, written as a WAV file."""
    if shutil.which("espeak-ng") is None:
        raise UserError("espeak-ng is not installed (apt-get install espeak-ng)")
    speech = path.with_name(f"{path.stem}.speech.wav")
    subprocess.run(
        ["espeak-ng", "-s", "150", "-w", str(speech), SPEECH], check=True, capture_output=True
    )
    with AudioFile(str(speech)) as f:
        x, rate = f.read(f.frames)[0], f.samplerate
    speech.unlink()
    x = np.pad(x, (int(0.3 * rate), int(0.3 * rate)))
    white = np.random.default_rng(seed).standard_normal(x.size).astype(np.float32)
    noise = np.convolve(
        white, np.ones(8, np.float32) / 8, mode="same"
    )  # tilt towards low frequencies
    noise *= 10 ** (noise_db / 20) * np.abs(x).max() / np.abs(noise).max()
    with AudioFile(str(path), "w", rate, 1) as f:
        f.write((x + noise)[None].astype(np.float32))
    return path


def wait_until(done: Callable[[], bool], timeout_s: float = 120.0) -> None:
    """Run the Qt event loop until `done()` (the render runs in its worker thread meanwhile)."""
    from PyQt6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the panel did not finish in time")
        QApplication.processEvents()
        time.sleep(0.01)


def capture(package: Path, out: Path, work: Path) -> Path:
    """Open the panel on `package`, render one clip, save the window as PNG to `out`."""
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from clapsep.host.cli.options import engine_loader
    from clapsep.ui.app import MainWindow
    from clapsep.ui.render_worker import PanelClip

    work.mkdir(parents=True, exist_ok=True)
    os.environ["CLAPSEP_DATA_DIR"] = str(work / "data")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(
        engine_loader(str(package), "cpu"),
        settings=QSettings(str(work / "panel.ini"), QSettings.Format.IniFormat),
    )
    window.resize(1500, 900)
    window.show()
    wait_until(lambda: not window.busy())
    if window.engine is None:
        raise UserError(f"the model package did not load: {window.statusBar().currentMessage()}")
    clip = PanelClip(make_clip(work / "interview_take3.wav"))
    window.clips.add_clips([clip])
    window.presets.select("Dialogue")
    window.out_dir.setText(str(work))
    window.render()
    wait_until(lambda: clip in window.results and not window.busy())
    window.clips.setCurrentRow(0)
    window.results_list.setCurrentRow(0)
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise UserError(f"could not write {out}")
    window.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clapsep.ui.screenshot", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", required=True, type=Path, help="model package folder")
    parser.add_argument("--out", type=Path, default=Path("docs/panel.png"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        print(capture(args.model, args.out, Path(work)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
