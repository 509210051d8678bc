"""`clapsep batch --ray ADDRESS` against a real Ray head started here (loopback, 2 CPUs).

The head runs with token authentication and a fresh random token (Ray's ports listen on
every interface; nothing without the token may join), under a temp dir of its own, and is
stopped at teardown through the `ray start --block` process that owns it. Each batch runs
as its own `python -m clapsep.host` process, so a test can kill it or one of its actors.
"""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="the [cluster] extra is not installed (pip install '.[cluster]')")

from pedalboard.io import AudioFile

from clapsep.files import is_temp_name
from clapsep.host.runtime.sessions import usable_cores

QUERY = "a dog barks"
SHORT = [f"a/clip{i}.wav" for i in range(4)] + [f"b/clip{i}.wav" for i in range(4, 7)]
LONG = "b/long.wav"  # long enough that an actor can be caught mid-file


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_under(marker: str) -> list[int]:
    """Processes whose command line names `marker` (the head's own temp dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def ray_env() -> dict[str, str]:
    """The environment the head and every driver share: the cluster's token."""
    return {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }


@pytest.fixture(scope="module")
def ray_head(ray_env: dict[str, str]) -> Iterator[str]:
    """The address of a real Ray head on 127.0.0.1 with 2 CPUs, stopped at teardown."""
    temp = tempfile.mkdtemp(prefix="clapsep-ray-", dir="/tmp")  # short: Ray's socket paths
    port = _free_port()
    log = Path(temp) / "head.log"
    ray = Path(sys.executable).with_name("ray")
    command = [
        str(ray), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
        "--num-cpus", "2", "--include-dashboard", "false", "--temp-dir", temp, "--block",
    ]  # fmt: skip
    with log.open("w") as out:
        head = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=ray_env,
        )
    try:
        deadline = time.monotonic() + 90
        while "will now block" not in log.read_text(errors="replace"):
            assert head.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # `ray start --block` stops the processes it started
        try:
            head.wait(30)
        except subprocess.TimeoutExpired:
            head.kill()
        for pid in _processes_under(temp):  # only this head's, should any outlive it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven 2 s clips and one 30 s clip of tones in noise, in two sub-folders."""
    root = tmp_path_factory.mktemp("ray-in")
    rng = np.random.default_rng(13)
    rate = 22050
    for i, rel in enumerate([*SHORT, LONG]):
        seconds = 30 if rel == LONG else 2
        t = np.arange(seconds * rate) / rate
        tone = 0.2 * np.sin(2 * np.pi * (220 + 55 * i) * t)
        audio = (tone + 0.05 * rng.standard_normal(t.size))[None].astype(np.float32)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        with AudioFile(str(root / rel), "w", rate, 1) as f:
            f.write(audio)
    return root


def _argv(clips: Path, out: Path, package: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "clapsep.host", "batch", str(clips), "--query", QUERY,
        "--out", str(out), "--model", str(package), "--device", "cpu", "--no-cache", *extra,
    ]  # fmt: skip


def _env(ray_env: dict[str, str], data: Path) -> dict[str, str]:
    return {**ray_env, "CLAPSEP_DATA_DIR": str(data)}


@pytest.fixture(scope="module")
def local_stems(
    clips: Path, package: Path, ray_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    """The local batch's stems, with the threads a 1-CPU actor has: one session thread per
    job, and one BLAS thread (Ray sets OMP_NUM_THREADS to an actor's CPUs; numpy's BLAS
    on more threads changes the last bits of a long file's stems)."""
    out = tmp_path_factory.mktemp("local-out")
    jobs = str(usable_cores())
    done = subprocess.run(
        _argv(clips, out, package, "--jobs", jobs),
        env={**_env(ray_env, tmp_path_factory.mktemp("data")), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return _stems(out)


def _stems(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.wav"))}


def _temps(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if is_temp_name(p.name)]


def _summary(out: Path) -> dict:
    return json.loads((out / "clapsep-batch-summary.json").read_text())


class _Driver:
    """A batch driver process whose stderr is read line by line as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def actor_pids(self) -> list[int]:
        """The actors' PIDs, as each reported them through Ray when it became ready."""
        return [int(line.split(" pid ")[1].split()[0]) for line in self.lines if " ready: " in line]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.05)

    def finish(self, timeout: float = 180) -> int:
        assert self.process.stdout is not None
        self.process.stdout.read()
        code = self.process.wait(timeout)
        self.reader.join(10)
        return code


def _holder(path: Path, pids: list[int]) -> int | None:
    """Which of `pids` has `path` open."""
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(path):
                    return pid
            except OSError:
                continue
    return None


def test_a_ray_batch_writes_the_local_batchs_bytes_and_a_rerun_skips_them(
    ray_head: str,
    clips: Path,
    package: Path,
    ray_env: dict[str, str],
    local_stems: dict[str, bytes],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    argv, env = _argv(clips, out, package, "--ray", ray_head), _env(ray_env, tmp_path / "data")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "[8/8] rendered" in done.stderr  # progress while it ran
    assert _stems(out) == local_stems  # mirrored sub-folders, the same bytes
    summary = _summary(out)
    assert summary["counts"]["rendered"] == 8
    assert summary["cluster"]["address"] == ray_head and len(summary["cluster"]["actors"]) == 2
    assert "status" in done.stdout.splitlines()[0]  # the table

    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert _summary(out)["counts"]["skipped"] == 8 and "cluster" not in _summary(out)


def test_an_actor_killed_mid_file_is_retried_and_the_batch_completes(
    ray_head: str,
    clips: Path,
    package: Path,
    ray_env: dict[str, str],
    local_stems: dict[str, bytes],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    driver = _Driver(
        _argv(clips, out, package, "--ray", ray_head), _env(ray_env, tmp_path / "data")
    )
    long_temp: list[Path] = []

    def long_file_being_written() -> bool:
        long_temp[:] = [p for p in _temps(out) if p.name.startswith(".long_")]
        return bool(long_temp)

    driver.wait_for(long_file_being_written)
    victim = _holder(long_temp[0], driver.actor_pids())
    assert victim is not None, (long_temp, driver.actor_pids())
    os.kill(victim, signal.SIGKILL)
    code = driver.finish()
    assert code == 0, "\n".join(driver.lines)
    assert any("died rendering" in line and "long.wav" in line for line in driver.lines)
    summary = _summary(out)
    assert summary["counts"]["rendered"] == 8 and summary["cluster"]["retried"] >= 1
    assert _temps(out) == []  # the dead actor's temp file was swept
    assert _stems(out) == local_stems


def test_a_killed_driver_resumes_from_what_is_finished(
    ray_head: str,
    clips: Path,
    package: Path,
    ray_env: dict[str, str],
    local_stems: dict[str, bytes],
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    argv, env = _argv(clips, out, package, "--ray", ray_head), _env(ray_env, tmp_path / "data")
    driver = _Driver(argv, env)
    driver.wait_for(lambda: any(line.startswith("[2/8]") for line in driver.lines))
    actors = driver.actor_pids()
    driver.process.kill()
    driver.finish()
    deadline = time.monotonic() + 60  # Ray ends a dead driver's actors
    while any(Path(f"/proc/{pid}").exists() for pid in actors):
        assert time.monotonic() < deadline, actors
        time.sleep(0.2)
    assert len(_stems(out)) < len(local_stems)  # it was killed with work left

    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    counts = _summary(out)["counts"]
    assert counts["skipped"] >= 2 and counts["skipped"] + counts["rendered"] == 8, counts
    assert _temps(out) == []
    assert _stems(out) == local_stems
