"""Helpers the bridge tests share: a user home, noise sources, a live server.

The model package is conftest's `package` fixture (the session's exported `mini` package,
or the one `CLAPSEP_TEST_PACKAGE` names). No tests live here.
"""

import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from pedalboard.io import AudioFile


def make_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path) -> Path:
    """A fresh data dir, config dir and model dir holding only `package`."""
    monkeypatch.setenv("CLAPSEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CLAPSEP_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / package.name).symlink_to(package)
    (tmp_path / "media").mkdir()
    return tmp_path


def write_noise(
    path: Path, seconds: float, rate: int = 48000, channels: int = 1, seed: int = 0
) -> np.ndarray:
    """Write band-limited-free white noise (32-bit float WAV); any misalignment shows."""
    x = (
        np.random.default_rng(seed).standard_normal((channels, round(seconds * rate))) * 0.1
    ).astype(np.float32)
    with AudioFile(str(path), "w", rate, channels, bit_depth=32) as f:
        f.write(x)
    return x


def read(path: Path | str) -> np.ndarray:
    with AudioFile(str(path)) as f:
        return f.read(f.frames)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread, for `with` blocks."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: Path) -> Path:
    """A fresh user home with conftest's `package` installed (import this fixture by name)."""
    return make_home(tmp_path, monkeypatch, package)


def wait_for(predicate: Any, timeout: float = 30.0, every: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; return its value (fails the test at the deadline)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(every)
    return value
