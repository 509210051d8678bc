"""Writing files so that readers see the old content or the new, never half of it.

Every writer in the product goes through here: the bytes go to a hidden temp file beside
the destination (same file system, so the rename is atomic), are fsynced, and are renamed
into place; an existing destination is replaced only when the caller says so, and a failed
write leaves no temp file behind.
"""

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clapsep.errors import UserError


def check_writable(dest: Path, overwrite: bool) -> None:
    """Fail early, before any work, if `dest` exists and may not be replaced."""
    if not dest.parent.is_dir():
        raise UserError(f"output folder {dest.parent} does not exist")
    if dest.exists() and not overwrite:
        raise UserError(f"{dest} already exists; choose another name or allow overwriting")


def temp_path(dest: Path) -> Path:
    """A hidden temp file beside `dest`, on the same file system so a rename is atomic."""
    return dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part{dest.suffix}")


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
            temp.unlink(missing_ok=True)


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
