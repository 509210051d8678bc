"""Which licence covers one source file, read from the package's debian/copyright.

Debian's machine-readable copyright files (DEP-5) name licences per upstream path
pattern, and the last matching `Files:` stanza wins. Installed paths differ from
upstream ones, so each catalogue entry says which prefix turns its root-relative path
into the upstream path. Packages without a DEP-5 file get the catalogue's licence;
OpenSFX clips carry their own in their description (see `sources.py`).
"""

from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

from clapsep.model.corpus.packages import Package

DOC_DIR = Path("/usr/share/doc")


def parse_dep5(text: str) -> list[tuple[tuple[str, ...], str]]:
    """(patterns, licence short name) per `Files:` stanza, in file order."""
    stanzas = []
    for block in text.split("\n\n"):
        fields: dict[str, list[str]] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key].append(line.strip())
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = [value.strip()]
        files = " ".join(fields.get("Files", [])).split()
        licence = fields.get("License", [""])[0]
        if files and licence:
            stanzas.append((tuple(files), licence))
    return stanzas


@cache
def _stanzas(package: str) -> list[tuple[tuple[str, ...], str]]:
    path = DOC_DIR / package / "copyright"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_dep5(text) if text.startswith("Format:") else []


def licence_for(package: Package, relpath: str) -> str:
    """The licence of one file of `package` (the catalogue's when nothing more precise is known)."""
    licence = package.licence
    if package.copyright_prefix is None:
        return licence
    upstream = package.copyright_prefix + relpath
    for patterns, stanza_licence in _stanzas(package.name):
        if any(fnmatchcase(upstream, p) for p in patterns):
            licence = stanza_licence
    return licence
