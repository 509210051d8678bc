"""`clapsep render` and `batch` when things go wrong around the render: re-runs into the input
tree, resumes after the query or the source changed, write failures (a full disk, a
read-only folder, a file in the way) and renders stopped by signals or killed outright.

Everything runs the real CLI on a real package (the `mini` export); the signal tests run
`clapsep` as a child process and signal it while it writes.
"""

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.files import TempLock, is_temp_name
from clapsep.host.cli import main
from clapsep.package_format import package_digest


@pytest.fixture
def home(cli_home: Path) -> Path:
    return cli_home


def write_wav(path: Path, seconds: float, rate: int = 22050, channels: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    x = (tone + 0.05 * rng.standard_normal((channels, t.size))).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with AudioFile(str(path), "w", rate, channels, bit_depth=16) as f:
        f.write(x)
    return path


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def batch(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    code, out, err = run(capsys, "batch", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def one_error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.endswith(errors[0] + "\n") and "Traceback" not in err, err
    return errors[0]


def wavs(root: Path) -> list[str]:
    """Every file under `root` but batch records and the summary, relative, sorted."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith((".clapsep.json", "summary.json"))
    )


def temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*") if is_temp_name(p.name))


# -- 2: a batch never renders its own outputs -------------------------------------------------


def test_a_batch_into_its_own_input_tree_never_renders_its_outputs(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    tree = home / "d"
    write_wav(tree / "a.wav", 2)
    write_wav(tree / "sub" / "b.wav", 2, seed=1)
    argv = (str(tree), "--query", "speech", "--out", str(tree))
    first = batch(capsys, *argv)
    assert first["counts"]["rendered"] == 2
    after_first = wavs(tree)
    assert after_first == [
        "a.wav",
        "a_speech_residual.wav",
        "a_speech_target.wav",
        "sub/b.wav",
        "sub/b_speech_residual.wav",
        "sub/b_speech_target.wav",
    ]
    again = batch(capsys, *argv)
    assert again["counts"] == {
        "rendered": 0,
        "cached": 0,
        "skipped": 2,
        "failed": 0,
        "cancelled": 0,
    }
    assert wavs(tree) == after_first
    # another query renders the two inputs, not the speech stems
    other = batch(capsys, str(tree), "--query", "music", "--out", str(tree))
    assert sorted(Path(f["input"]).name for f in other["files"]) == ["a.wav", "b.wav"]
    assert not [
        name for name in wavs(tree) if "speech_target_" in name or "speech_residual_" in name
    ]


def test_stems_of_an_older_run_without_records_are_not_taken_for_inputs(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    tree = home / "d"
    write_wav(tree / "a.wav", 2)
    batch(capsys, str(tree), "--query", "speech", "--out", str(tree))
    for record in tree.glob(".*.clapsep.json"):  # as a batch from before records left them
        record.unlink()
    again = batch(capsys, str(tree), "--query", "speech", "--out", str(tree))
    assert [Path(f["input"]).name for f in again["files"]] == ["a.wav"]
    assert wavs(tree) == ["a.wav", "a_speech_residual.wav", "a_speech_target.wav"]


def test_an_out_folder_below_the_input_tree_is_left_out_of_the_search(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    tree = home / "d"
    write_wav(tree / "a.wav", 2)
    argv = (str(tree), "--query", "speech", "--out", str(tree / "stems"))
    batch(capsys, *argv)
    again = batch(capsys, *argv)
    assert [Path(f["input"]).name for f in again["files"]] == ["a.wav"]
    assert again["counts"]["skipped"] == 1
    assert wavs(tree) == ["a.wav", "stems/a_speech_residual.wav", "stems/a_speech_target.wav"]


# -- 3: resume compares what produced a stem --------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_renders_again_when_the_negative_query_or_attenuation_limit_changed(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    write_wav(home / "in" / "a.wav", 3)
    out = home / "out"
    base = (str(home / "in"), "--query", "speech", "--out", str(out), "--no-cache")
    target = out / "a_speech_target.wav"

    assert batch(capsys, *base, "--negative", "music")["counts"]["rendered"] == 1
    with_music = digest(target)
    assert batch(capsys, *base, "--negative", "music")["counts"]["skipped"] == 1

    noise = batch(capsys, *base, "--negative", "traffic noise")
    assert noise["counts"]["rendered"] == 1 and noise["counts"]["skipped"] == 0
    assert digest(target) != with_music
    with_noise = digest(target)

    limited = batch(capsys, *base, "--negative", "traffic noise", "--atten-limit", "6")
    assert limited["counts"]["rendered"] == 1
    assert digest(target) != with_noise
    again = batch(capsys, *base, "--negative", "traffic noise", "--atten-limit", "6")
    assert again["counts"]["skipped"] == 1
    record = json.loads((out / ".a_speech_target.wav.clapsep.json").read_text())
    assert record["recipe"]["atten"] == 6 and record["query"]["negative"]["text"] == "traffic noise"


def other_model(package: Path, where: Path) -> Path:
    """The same graphs under another package digest (a tokenizer file with one more space)."""
    where.mkdir()
    for item in package.iterdir():
        if item.name not in ("manifest.json", "tokenizer.json"):
            (where / item.name).symlink_to(item.resolve())
    tokenizer = (package / "tokenizer.json").read_bytes() + b" \n"
    (where / "tokenizer.json").write_bytes(tokenizer)
    manifest = json.loads((package / "manifest.json").read_text())
    manifest["files"]["tokenizer.json"] = {
        "sha256": hashlib.sha256(tokenizer).hexdigest(),
        "bytes": len(tokenizer),
    }
    manifest["digest"] = package_digest(manifest["files"])
    (where / "manifest.json").write_text(json.dumps(manifest))
    return where


def test_resume_renders_again_with_another_model(
    home: Path, package: Path, capsys: pytest.CaptureFixture
) -> None:
    write_wav(home / "in" / "a.wav", 2)
    argv = (str(home / "in"), "--query", "speech", "--out", str(home / "out"))
    assert batch(capsys, *argv)["counts"]["rendered"] == 1
    assert batch(capsys, *argv)["counts"]["skipped"] == 1
    model = other_model(package, home / "other-model")
    swapped = batch(capsys, *argv, "--model", str(model))
    assert swapped["counts"]["rendered"] == 1 and swapped["counts"]["skipped"] == 0
    assert batch(capsys, *argv, "--model", str(model))["counts"]["skipped"] == 1


def test_resume_renders_again_when_the_source_changed_but_not_when_only_touched(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    source = write_wav(home / "in" / "a.wav", 2)
    argv = (str(home / "in"), "--query", "speech", "--out", str(home / "out"))
    batch(capsys, *argv)
    later = time.time() + 5
    os.utime(source, (later, later))  # same bytes, new mtime: hashed again, still the same
    assert batch(capsys, *argv)["counts"]["skipped"] == 1
    size = source.stat().st_size
    write_wav(source, 2, seed=7)  # same length, other samples
    assert source.stat().st_size == size
    os.utime(source, (later, later))  # even with the recorded mtime the size/digest decide
    changed = batch(capsys, *argv)
    assert changed["counts"]["skipped"] == 0
    assert changed["counts"]["rendered"] + changed["counts"]["cached"] == 1


# -- 5: write failures are one line, exit status 2 --------------------------------------------


def mount_tmpfs(folder: Path, options: str) -> None:
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root on Linux (this run is not root)")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system: a few seconds of stems fill it."""
    folder = tmp_path / "full"
    mount_tmpfs(folder, "size=1m")
    yield folder
    unmount(folder)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written in: a read-only mount as root, else no write permission."""
    folder = tmp_path / "read-only"
    if os.name == "posix" and os.geteuid() == 0:
        mount_tmpfs(folder, "ro,size=1m")
        yield folder
        unmount(folder)
    else:
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_a_full_disk_is_one_line_exit_2_and_leaves_nothing_behind(
    home: Path, full_disk: Path, capsys: pytest.CaptureFixture
) -> None:
    source = write_wav(home / "in" / "long.wav", 12)  # two 1 MiB float stems
    code, _, err = run(
        capsys, "render", str(source), "--query", "speech", "--out", str(full_disk), "--no-cache"
    )
    line = one_error_line(err)
    assert code == 2 and "is full" in line and str(full_disk) in line, err
    assert list(full_disk.iterdir()) == []

    code, out, err = run(
        capsys, "batch", str(home / "in"), "--query", "speech", "--out", str(full_disk), "--json"
    )
    summary = json.loads(out)
    assert code == 2 and summary["counts"]["failed"] == 1, err
    (failed,) = summary["files"]
    assert not failed["internal"] and "is full" in failed["error"]
    assert temps(full_disk) == [] and wavs(full_disk) == []


def test_a_read_only_output_folder_is_one_line_exit_2_on_a_miss_and_on_a_cache_hit(
    home: Path, read_only: Path, capsys: pytest.CaptureFixture
) -> None:
    source = write_wav(home / "in" / "a.wav", 2)
    (home / "out").mkdir()
    code, _, err = run(
        capsys, "render", str(source), "--query", "speech", "--out", str(home / "out")
    )
    assert code == 0, err  # the render cache now holds this render

    for extra in ((), ("--no-cache",)):  # a hit copies from the cache, a miss renders
        code, _, err = run(
            capsys, "render", str(source), "--query", "speech", "--out", str(read_only), *extra
        )
        line = one_error_line(err)
        assert code == 2 and line.startswith(f"error: cannot write {read_only}"), err
        assert "read-only file system" in line or "no permission" in line, err
    assert list(read_only.iterdir()) == []


def test_batch_out_naming_a_regular_file_is_one_line_exit_2(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    write_wav(home / "in" / "a.wav", 1)
    (home / "taken").write_text("not a folder")
    code, _, err = run(
        capsys, "batch", str(home / "in"), "--query", "x", "--out", str(home / "taken")
    )
    assert code == 2 and "is a file, not a folder" in one_error_line(err)
    # a file in the way below --out, where an input's sub-folder goes, fails that input alone
    write_wav(home / "in" / "sub" / "b.wav", 1)
    (home / "out").mkdir()
    (home / "out" / "sub").write_text("in the way")
    code, out, err = run(
        capsys, "batch", str(home / "in"), "--query", "x", "--out", str(home / "out"), "--json"
    )
    summary = json.loads(out)
    assert code == 2 and summary["counts"] == {
        "rendered": 1,
        "cached": 0,
        "skipped": 0,
        "failed": 1,
        "cancelled": 0,
    }, err
    failed = next(f for f in summary["files"] if f["status"] == "failed")
    assert not failed["internal"] and "is a file, not a folder" in failed["error"]


def test_a_summary_that_cannot_be_written_is_one_line_exit_2_after_the_results(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    write_wav(home / "in" / "a.wav", 1)
    out = home / "out"
    (out / "clapsep-batch-summary.json").mkdir(parents=True)  # a folder where the summary goes
    code, stdout, err = run(capsys, "batch", str(home / "in"), "--query", "x", "--out", str(out))
    line = one_error_line(err)
    assert code == 2 and "cannot write" in line and "clapsep-batch-summary.json" in line, err
    assert "rendered: 1" in stdout  # the results still came out
    assert temps(out) == []


# -- 6: signals and killed renders leave no temp files -----------------------------------------


@pytest.fixture(scope="module")
def long_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes of stereo at 44.1 kHz: tens of seconds to render on a CPU."""
    return write_wav(tmp_path_factory.mktemp("long") / "long.wav", 600, 44100, 2)


def clapsep(home: Path, *argv: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CLAPSEP_DATA_DIR": str(home / "data"),
        "CLAPSEP_MODEL_DIR": str(home / "models"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "clapsep.host", *argv, "--device", "cpu"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_temps(child: subprocess.Popen, folder: Path, count: int) -> list[Path]:
    """Wait until `count` temp files with samples in them are being written in `folder`."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = [p for p in temps(folder) if p.stat().st_size > 1 << 20]
        if len(found) >= count:
            return found
        if child.poll() is not None:
            raise AssertionError(f"clapsep ended before writing: {child.communicate()}")
        time.sleep(0.02)
    child.kill()
    raise AssertionError("no temp files appeared")


def test_sigterm_stops_a_render_and_removes_its_temp_files(home: Path, long_input: Path) -> None:
    out = home / "out"
    out.mkdir()
    child = clapsep(
        home, "render", str(long_input), "--query", "noise", "--out", str(out), "--no-cache"
    )
    wait_for_temps(child, out, 2)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_batch_of_two_workers_removing_temp_files_and_writing_the_summary(
    home: Path, long_input: Path, signum: signal.Signals
) -> None:
    (home / "in").mkdir()
    for name in ("one.wav", "two.wav"):
        (home / "in" / name).symlink_to(long_input)
    out = home / "out"
    argv = ("batch", str(home / "in"), "--query", "noise", "--out", str(out), "--jobs", "2")
    child = clapsep(home, *argv, "--no-cache", "--json")
    wait_for_temps(child, out, 4)
    child.send_signal(signum)
    stdout, err = child.communicate(timeout=120)
    assert child.returncode == 128 + signum, err
    assert f"stopped by {signum.name}" in err and "Traceback" not in err
    assert json.loads(stdout)["counts"]["cancelled"] == 2
    assert [p.name for p in out.iterdir()] == ["clapsep-batch-summary.json"]


def test_a_run_sweeps_the_temp_files_a_killed_render_left_but_not_a_live_writers(
    home: Path, long_input: Path, capsys: pytest.CaptureFixture
) -> None:
    out = home / "out"
    out.mkdir()
    child = clapsep(
        home, "render", str(long_input), "--query", "noise", "--out", str(out), "--no-cache"
    )
    left = wait_for_temps(child, out, 2)
    child.kill()  # SIGKILL: nothing can clean up
    child.communicate(timeout=60)
    assert all(p.exists() for p in left)

    live = out / ".other_noise_target.0123abcd.part.wav"  # another process writing it now
    live.write_bytes(b"RIFF")
    old = time.time() - 3600
    os.utime(live, (old, old))
    lock = TempLock(live)
    unrelated = out / ".notes.part.wav"  # not a name clapsep's temp files have
    unrelated.write_bytes(b"keep")
    os.utime(unrelated, (old, old))
    try:
        source = write_wav(home / "in" / "short.wav", 1)
        code, _, err = run(capsys, "render", str(source), "--query", "x", "--out", str(out))
    finally:
        lock.release()
    assert code == 0, err
    assert not any(p.exists() for p in left)
    assert live.exists() and unrelated.exists()
    assert all(f"removed {p}" in err for p in left)
    assert (out / "short_x_target.wav").is_file()


def test_cannot_write_names_the_cause_of_each_errno(tmp_path: Path) -> None:
    from clapsep.files import cannot_write

    dest = tmp_path / "a.wav"
    assert "is full" in str(cannot_write(dest, OSError(errno.ENOSPC, "No space left")))
    assert "read-only file system" in str(cannot_write(dest, OSError(errno.EROFS, "Read-only")))
    assert "no permission" in str(cannot_write(dest, OSError(errno.EACCES, "Permission denied")))
    (tmp_path / "file").write_text("x")
    blocked = cannot_write(tmp_path / "file" / "sub", OSError(errno.ENOTDIR, "Not a directory"))
    assert f"{tmp_path / 'file'} is a file, not a folder" in str(blocked)
    # pedalboard's bare RuntimeError on a disk with room: its own words
    assert str(cannot_write(dest, RuntimeError("Unable to write data"))).endswith(
        ": Unable to write data"
    )
