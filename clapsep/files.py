"""Writing files so that readers see the old content or the new, never half of it.

Every writer in the product goes through here: the bytes go to a hidden temp file beside
the destination (same file system, so the rename is atomic), are fsynced, and are renamed
into place; an existing destination is replaced only when the caller says so, and a failed
write leaves no temp file behind.

A writer killed outright (SIGKILL, a power cut) cannot clean up, so its temp files stay;
`sweep_stale_temps` removes those a later run finds in its output folder. A writer that
holds `TempLock` on its temp file marks it live, so a sweep in another process keeps it.
`cannot_write` turns a failed write into one line that says why (a full disk, a read-only
folder).
"""

import contextlib
import errno
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clapsep.errors import UserError

try:
    import fcntl as _flock
except ImportError:  # Windows: no flock; sweeps go by age alone
    _flock = None  # type: ignore[assignment]


def check_writable(dest: Path, overwrite: bool) -> None:
    """Fail early, before any work, if `dest` exists and may not be replaced."""
    if not dest.parent.is_dir():
        raise UserError(f"output folder {dest.parent} does not exist")
    if dest.exists() and not overwrite:
        raise UserError(f"{dest} already exists; choose another name or allow overwriting")


def temp_path(dest: Path) -> Path:
    """A hidden temp file beside `dest`, on the same file system so a rename is atomic."""
    return dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part{dest.suffix}")


def remove_temp(temp: Path) -> None:
    """Remove a temp file if it is there; never raises (a read-only file system answers even
    the removal of a missing file with EROFS, which must not hide the error being cleaned up
    after)."""
    with contextlib.suppress(OSError):
        Path(temp).unlink(missing_ok=True)


_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.part(\.[^.]+)?")
FULL_DISK_BYTES = 4 << 20  # less free space than this after a failed write: the disk is full


def is_temp_name(name: str) -> bool:
    """Whether `name` is one `temp_path` gives."""
    return _TEMP_NAME.fullmatch(name) is not None


class TempLock:
    """A shared lock on a temp file that a writer holds while it writes, so that a sweep in
    another process knows it is live (the system drops the lock when the writer dies).

    POSIX only (`flock`); elsewhere it holds nothing and sweeps go by age alone.
    """

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None
        if _flock is None:
            return
        with contextlib.suppress(OSError):  # gone already, or a file system without locks
            fd = os.open(path, os.O_RDONLY)
            try:
                _flock.flock(fd, _flock.LOCK_SH | _flock.LOCK_NB)
            except OSError:
                os.close(fd)
                return
            self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _held(path: Path) -> bool:
    """Whether a live writer holds `TempLock` on `path`."""
    if _flock is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        _flock.flock(fd, _flock.LOCK_EX | _flock.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def sweep_stale_temps(folder: Path, older_than: float) -> list[Path]:
    """Remove the temp files (`temp_path` names) in `folder` that writers killed outright left:
    those last written before `older_than` (the start of the running process: nothing it
    writes is older) and held by no live writer. Returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # missing or unreadable: nothing to sweep
        return removed
    for entry in entries:
        if not is_temp_name(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat().st_mtime >= older_than:
                continue
            path = Path(entry.path)
            if _held(path):
                continue
            path.unlink()
        except OSError:  # removed meanwhile, or not ours to remove
            continue
        removed.append(path)
    return removed


def cannot_write(dest: Path, exc: BaseException) -> UserError:
    """One line saying why writing `dest` failed, for a write error of any kind (an `OSError`,
    or an audio library's bare "unable to write")."""
    folder = Path(dest).parent
    code = exc.errno if isinstance(exc, OSError) else None
    if code is None:  # no errno: a full disk is the common cause, then what a probe meets
        with contextlib.suppress(OSError):
            if shutil.disk_usage(folder).free < FULL_DISK_BYTES:
                code = errno.ENOSPC
        code = code or _probe_errno(folder)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        free = ""
        with contextlib.suppress(OSError):
            free = f" ({_size(shutil.disk_usage(folder).free)} free)"
        reason = f"the disk holding {folder} is full{free}; free space or choose another folder"
    elif code == errno.EROFS:
        reason = f"{folder} is on a read-only file system; choose another folder"
    elif code in (errno.EACCES, errno.EPERM):
        reason = f"no permission to write in {folder}; choose another folder"
    elif code in (errno.ENOTDIR, errno.EEXIST) and (blocker := _file_in_the_way(Path(dest))):
        reason = f"{blocker} is a file, not a folder"
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return UserError(f"cannot write {dest}: {reason}")


def _file_in_the_way(dest: Path) -> Path | None:
    """The first of `dest` and its folders that exists but is not a folder."""
    for path in (dest, *dest.parents):
        if path.exists() or path.is_symlink():
            return None if path.is_dir() else path
    return None


def write_problem(folder: Path) -> UserError | None:
    """Why nothing can be written in `folder` (a probe file is created and removed), or None."""
    code = _probe_errno(Path(folder))
    if code is None:
        return None
    return cannot_write(Path(folder) / "probe", OSError(code, os.strerror(code)))


def _probe_errno(folder: Path) -> int | None:
    probe = folder / f".clapsep-probe-{uuid.uuid4().hex[:8]}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        return exc.errno
    os.close(fd)
    probe.unlink(missing_ok=True)
    return None


def _size(n: int) -> str:
    if n < 1 << 20:
        return f"{n // 1024} KiB"
    return f"{n / (1 << 20):.1f} MiB" if n < 1 << 30 else f"{n / (1 << 30):.1f} GiB"


def publish(temp: Path, dest: Path, overwrite: bool) -> Path:
    """fsync `temp` and move it to `dest`, never replacing an existing `dest` unless `overwrite`."""
    if temp.is_file():
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
    if overwrite:
        os.replace(temp, dest)
    else:
        _rename_no_replace(temp, dest)
    _fsync_dir(dest.parent)
    return dest


def _rename_no_replace(temp: Path, dest: Path) -> None:
    """Rename without ever clobbering: a hard link fails if `dest` appeared meanwhile."""
    try:
        os.link(temp, dest)
    except FileExistsError:
        temp.unlink(missing_ok=True)
        raise UserError(
            f"{dest} already exists; choose another name or allow overwriting"
        ) from None
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        check_writable(dest, overwrite=False)
        os.replace(temp, dest)
        return
    temp.unlink()


def _fsync_dir(folder: Path) -> None:
    if os.name == "posix":
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def replacing(dest: Path, overwrite: bool = True) -> Iterator[Path]:
    """`with replacing(dest) as temp:` write `temp` (a file or a folder); it becomes `dest` on
    success.

    A folder can only replace a missing `dest`; on an exception `temp` is removed and `dest` is
    untouched.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path(dest)
    try:
        yield temp
        publish(temp, dest, overwrite)
    finally:
        if temp.is_dir():
            shutil.rmtree(temp, ignore_errors=True)
        else:
            remove_temp(temp)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8) in one atomic step."""
    with replacing(Path(path)) as temp:
        temp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as indented UTF-8 JSON in one atomic step."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one atomic step."""
    with replacing(Path(path)) as temp:
        temp.write_bytes(data)
