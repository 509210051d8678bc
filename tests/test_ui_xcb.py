"""`clapsep ui` on a real X server (Xvfb) through Qt's xcb platform plugin: the libraries
`.ci/setup.sh` installs are enough for the panel to open, and it draws a real window."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PyQt6.QtGui import QImage

from clapsep.ui.command import clapsep_executable

GRAB = (
    "import sys\n"
    "from PyQt6.QtGui import QGuiApplication\n"
    "app = QGuiApplication(sys.argv[:1])\n"
    "sys.exit(0 if app.primaryScreen().grabWindow(0).save(sys.argv[1]) else 1)\n"
)


def painted_fraction(image: QImage) -> tuple[float, int]:
    """The share of sampled pixels that are not the empty root's black, and how many colours."""
    colours, painted, samples = set(), 0, 0
    for y in range(0, image.height(), 8):
        for x in range(0, image.width(), 8):
            rgb = image.pixel(x, y) & 0xFFFFFF
            colours.add(rgb)
            painted += rgb != 0
            samples += 1
    return painted / samples, len(colours)


@pytest.fixture
def display(tmp_path: Path):
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_clapsep_ui_opens_its_window_on_a_real_x_display_through_xcb(
    display: str, package: Path, tmp_path: Path
) -> None:
    env = os.environ | {
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "CLAPSEP_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("WAYLAND_DISPLAY", None)
    ui = subprocess.Popen(
        [
            clapsep_executable(),
            "ui",
            "--model",
            str(package),
            "--device",
            "cpu",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    shot = tmp_path / "screen.png"
    try:
        deadline, fraction, colours = time.monotonic() + 60, 0.0, 0
        while time.monotonic() < deadline and ui.poll() is None:
            grab = subprocess.run(
                [sys.executable, "-c", GRAB, str(shot)], env=env, capture_output=True, timeout=30
            )
            assert grab.returncode == 0, grab.stderr.decode()
            fraction, colours = painted_fraction(QImage(str(shot)))
            if fraction > 0.5 and colours > 50:
                break
            time.sleep(0.5)
        assert ui.poll() is None, f"clapsep ui exited: {ui.communicate()[0]}"
    finally:
        ui.terminate()
        output = ui.communicate(timeout=20)[0]
    assert "Could not load the Qt platform plugin" not in output
    assert fraction > 0.5 and colours > 50, (fraction, colours, output)
