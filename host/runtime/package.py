"""Model packages: a folder of ONNX graphs that `manifest.json` describes and checksums.

The manifest owns the model's rules (rates, window length, embedding sizes, query
encoder kind), so the host never hard-codes them. Every listed file carries its size
and sha256: a package that was truncated, edited or half-copied is refused with a
one-line `UserError` before any session opens. File and tensor names come from
`clapsep.package_format`, which the export side writes with.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.package_format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_FILE,
    POSITIVE_INT_KEYS,
    READABLE_FORMAT_VERSIONS,
    REQUIRED_FILES,
    REQUIRED_KEYS,
    package_digest,
    sha256_file,
)

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class ModelPackage:
    """A verified model package; `digest` identifies its exact contents (cache keys)."""

    path: Path
    manifest: dict
    name: str
    version: str
    sample_rate: int
    query_sample_rate: int
    window_samples: int
    condition_dim: int
    digest: str

    @property
    def min_window_samples(self) -> int:
        return int(self.manifest["min_window_samples"])

    @property
    def query_samples(self) -> int:
        return int(self.manifest["query_samples"])

    @property
    def embedding_dim(self) -> int:
        return int(self.manifest["embedding_dim"])

    def file(self, name: str) -> Path:
        """Path of a file the manifest lists (and so verified)."""
        if name not in self.manifest["files"]:
            raise UserError(f"model package {self.path} has no {name}")
        return self.path / name

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]


def _read_manifest(path: Path) -> dict:
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise UserError(f"{path} is not a model package (no {MANIFEST_FILE})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"corrupt model package {path}: {MANIFEST_FILE} is not valid JSON ({exc})"
        ) from None
    except RecursionError:  # json's decoder recurses once per nested array or object
        raise UserError(
            f"corrupt model package {path}: {MANIFEST_FILE} is nested too deeply to read"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read {manifest_path}: {exc.strerror or exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(
            f"{path} is not a clapsep model package ({MANIFEST_FILE} lacks format {FORMAT!r})"
        )
    version = manifest.get("format_version")
    if isinstance(version, bool) or version not in READABLE_FORMAT_VERSIONS:
        hint = (
            "update clapsep-studio"
            if isinstance(version, int) and version > FORMAT_VERSION
            else "re-export it"
        )
        readable = ", ".join(str(v) for v in READABLE_FORMAT_VERSIONS)
        raise UserError(
            f"incompatible model package {path}: format version {version}, "
            f"this clapsep reads versions {readable} ({hint})"
        )
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing:
        raise UserError(f"incompatible model package {path}: manifest lacks {', '.join(missing)}")
    for key in POSITIVE_INT_KEYS:
        if not _is_count(manifest[key], minimum=1):
            raise UserError(
                f"corrupt model package manifest {manifest_path}: {key} is "
                f"{_shown(manifest[key])}, not a whole number above 0; re-export it"
            )
    if manifest["min_window_samples"] > manifest["window_samples"]:
        raise UserError(
            f"corrupt model package manifest {manifest_path}: min_window_samples "
            f"({manifest['min_window_samples']}) exceeds window_samples "
            f"({manifest['window_samples']}); re-export it"
        )
    return manifest


def _is_count(value: Any, minimum: int) -> bool:
    """A JSON whole number (not a boolean, a fraction or a string) of at least `minimum`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _shown(value: Any) -> str:
    """A manifest value for a one-line message (repr escapes newlines), cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _verify_files(path: Path, files: dict[str, dict[str, Any]], version: int, verify: bool) -> None:
    absent = [name for name in REQUIRED_FILES[version] if name not in files]
    if absent:
        raise UserError(f"incompatible model package {path}: manifest lists no {', '.join(absent)}")
    for name, entry in sorted(files.items()):
        target = path / name
        if Path(name).is_absolute() or ".." in Path(name).parts or not name.isprintable():
            raise UserError(f"corrupt model package {path}: unsafe file name {name!r} in manifest")
        where = f"corrupt model package manifest {path / MANIFEST_FILE}: files[{name!r}]"
        if not _is_count(entry.get("bytes"), minimum=0):
            raise UserError(
                f"{where}.bytes is {_shown(entry.get('bytes'))}, not a whole number of bytes; "
                "re-export it"
            )
        if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise UserError(
                f"{where}.sha256 is {_shown(entry.get('sha256'))}, not 64 hex digits; re-export it"
            )
        if not target.is_file():
            raise UserError(f"corrupt model package {path}: {name} is missing")
        size = target.stat().st_size
        if size != entry["bytes"]:
            kind = "truncated" if size < entry["bytes"] else "has the wrong size"
            raise UserError(
                f"corrupt model package {path}: {name} {kind} "
                f"({size} bytes, manifest says {entry['bytes']}); re-copy or re-export it"
            )
        if verify and sha256_file(target) != entry["sha256"]:
            raise UserError(
                f"model package {path} was modified: checksum of {name} does not match "
                "the manifest; re-copy or re-export it"
            )


def load_package(path: Path, verify: bool = True) -> ModelPackage:
    """Read and verify a package (sizes always, sha256 unless `verify=False`)."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise UserError(f"model package not found: {path}")
    manifest = _read_manifest(path)
    files = manifest["files"]
    if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
        raise UserError(f"corrupt model package {path}: the manifest's file table is malformed")
    _verify_files(path, files, manifest["format_version"], verify)
    try:
        return ModelPackage(
            path=path.resolve(),
            manifest=manifest,
            name=str(manifest["name"]),
            version=str(manifest["version"]),
            sample_rate=int(manifest["sample_rate"]),
            query_sample_rate=int(manifest["query_sample_rate"]),
            window_samples=int(manifest["window_samples"]),
            condition_dim=int(manifest["condition_dim"]),
            digest=package_digest(files),
        )
    except (TypeError, ValueError) as exc:
        raise UserError(f"corrupt model package {path}: bad manifest value ({exc})") from None
