"""Source files of one package, as byte streams that pedalboard can read.

Four layouts occur: plain files under a folder, members of a zip (UFO:AI's
`0snd.pk3`, or every .pk3 / .wz under a folder, as OpenArena ships them), entries of
an OpenTTD sound catalogue (`opensfx.cat`: a table of offsets, then per entry a
length-prefixed description and RIFF data) and entries of a Flight of the Amazon
Queen resource file (`queen.1c`: a `QTBL` table of names, offsets and sizes; speech is
the `*.SB` entries, stored as MP3 in Debian's rebuild). Each becomes a `SourceItem`
whose `open()` yields a seekable stream over just that file, so nothing is loaded
whole: pedalboard reads from the stream in blocks, even inside containers.
"""

import contextlib
import hashlib
import io
import os
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

from clapsep.model.corpus.packages import Package
from clapsep.model.corpus.rules import Entry

AUDIO_EXTENSIONS = (".ogg", ".wav", ".flac", ".opus", ".mp3", ".aif", ".aiff")
UNREADABLE_EXTENSIONS = (".opus",)  # pedalboard on Linux has no Opus decoder


@dataclass(frozen=True, eq=False)
class SourceItem:
    package: str
    relpath: str  # what the label table matches: path under the package root, member, or title
    source_file: str  # what licences.csv names: the installed file, or "<container>:<member>"
    open: Callable[[], AbstractContextManager[BinaryIO]]
    licence: str = ""  # set when the item states its own licence
    group: str = ""  # set when the item knows its split group better than the table
    entry: Entry | None = None  # set by generators, which know their label
    generated: bool = False

    @property
    def key(self) -> str:
        return f"{self.package}:{self.relpath}"

    def readable(self) -> bool:
        return not self.relpath.lower().endswith(UNREADABLE_EXTENSIONS)


def fingerprint(item: SourceItem) -> str:
    """Content hash, read in blocks, to drop byte-identical copies (same clip in two folders)."""
    digest = hashlib.blake2b(digest_size=16)
    with item.open() as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def items(package: Package) -> Iterator[SourceItem]:
    """Every audio file of an installed package, in a stable order."""
    if package.kind == "files":
        yield from _folder_items(package)
    elif package.kind == "zip":
        yield from _zip_items(package)
    elif package.kind == "cat":
        yield from _cat_items(package)
    elif package.kind == "queen":
        yield from _queen_items(package)
    else:
        raise ValueError(f"{package.name}: {package.kind} sources are generated, not read")


def _folder_items(package: Package) -> Iterator[SourceItem]:
    for folder, dirs, files in os.walk(package.root):
        dirs.sort()
        for name in sorted(files):
            if not name.lower().endswith(AUDIO_EXTENSIONS):
                continue
            path = os.path.join(folder, name)
            relpath = os.path.relpath(path, package.root)
            yield SourceItem(package.name, relpath, path, partial(open, path, "rb"))


ARCHIVE_EXTENSIONS = (".pk3", ".wz", ".zip")


def _zip_items(package: Package) -> Iterator[SourceItem]:
    """Members of the zip at the root; for a folder, of every archive under it
    (`<archive>/<member>`)."""
    if not os.path.isdir(package.root):
        yield from _archive_items(package, package.root, "")
        return
    for folder, dirs, files in os.walk(package.root):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(ARCHIVE_EXTENSIONS):
                path = os.path.join(folder, name)
                yield from _archive_items(package, path, os.path.relpath(path, package.root) + "/")


def _archive_items(package: Package, path: str, prefix: str) -> Iterator[SourceItem]:
    with zipfile.ZipFile(path) as archive:
        members = sorted(
            i.filename for i in archive.infolist() if i.filename.lower().endswith(AUDIO_EXTENSIONS)
        )
    for member in members:
        yield SourceItem(
            package.name,
            prefix + member,
            f"{path}:{member}",
            lambda member=member: _zip_member(path, member),
        )


@contextlib.contextmanager
def _zip_member(archive_path: str, member: str) -> Iterator[BinaryIO]:
    with zipfile.ZipFile(archive_path) as archive, archive.open(member) as stream:
        yield stream  # type: ignore[misc]


_ORIGINAL = re.compile(r'Original "([^"]+)"')
_LICENCE = re.compile(r"License: ([^.]+(?:\.\d[^.]*)?)")


def read_catalogue(path: str) -> list[tuple[int, int, str]]:
    """(data offset, data size, description) of each entry of an OpenTTD .cat file."""
    entries = []
    with open(path, "rb") as f:
        first_offset, _ = struct.unpack("<II", f.read(8))
        count = (first_offset & 0x7FFFFFFF) // 8
        f.seek(0)
        table = [struct.unpack("<II", f.read(8)) for _ in range(count)]
        for offset, size in table:
            f.seek(offset & 0x7FFFFFFF)
            name = f.read(f.read(1)[0]).rstrip(b"\0").decode("utf-8", "replace")
            entries.append((f.tell(), size, name))
    return entries


def _cat_items(package: Package) -> Iterator[SourceItem]:
    for index, (offset, size, description) in enumerate(read_catalogue(package.root)):
        title = description.split('"')[1] if description.count('"') >= 2 else description
        originals = _ORIGINAL.findall(description)
        licence = _LICENCE.search(description)
        yield SourceItem(
            package.name,
            f"{index:02d} {title}",
            f"{package.root}:{index:02d} {title}",
            lambda offset=offset, size=size: _window(package.root, offset, size),
            licence=licence.group(1).strip() if licence else package.licence,
            group=originals[0]
            if originals
            else title,  # clips edited from one recording stay together
        )


QUEEN_MAGIC = b"QTBL"
QUEEN_SPEECH = ".SB"


def read_queen_table(path: str) -> list[tuple[str, int, int]]:
    """(name, offset, size) of each entry of a Flight of the Amazon Queen `queen.1c`.

    Header: "QTBL", an 8-byte version ("CEM10"), a compression byte (1: MP3, the Debian
    file; 0 would be raw 8-bit PCM, which this reader does not decode) and a big-endian
    u16 entry count; then per entry a NUL-padded 12-byte name, a bundle byte and
    big-endian u32 offset and size.
    """
    with open(path, "rb") as f:
        header = f.read(15)
        if len(header) < 15 or header[:4] != QUEEN_MAGIC:
            raise ValueError(f"{path}: not a QTBL resource table")
        compression, (count,) = header[12], struct.unpack(">H", header[13:15])
        if compression != 1:
            raise ValueError(
                f"{path}: compression {compression} is not MP3; only the MP3 rebuild is read"
            )
        entries = []
        for _ in range(count):
            record = f.read(21)
            _, offset, size = struct.unpack(">BII", record[12:21])
            entries.append((record[:12].split(b"\0")[0].decode("latin-1"), offset, size))
    return entries


def _queen_items(package: Package) -> Iterator[SourceItem]:
    speech = (e for e in read_queen_table(package.root) if e[0].upper().endswith(QUEEN_SPEECH))
    for name, offset, size in sorted(speech):
        yield SourceItem(
            package.name,
            name,
            f"{package.root}:{name}",
            lambda offset=offset, size=size: _window(package.root, offset, size),
        )


@contextlib.contextmanager
def _window(path: str, offset: int, size: int) -> Iterator[BinaryIO]:
    with open(path, "rb") as f:
        yield io.BufferedReader(_Window(f, offset, size))  # type: ignore[arg-type]


class _Window(io.RawIOBase):
    """A read-only, seekable view of `size` bytes at `offset` of an open file."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f, self._offset, self._size, self._pos = f, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = min(max(base + pos, 0), self._size)
        return self._pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        self._f.seek(self._offset + self._pos)
        data = self._f.read(n)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)
