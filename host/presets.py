"""Presets: a named query plus render options, shared by the CLI, the bridge and the panel.

A preset is one versioned JSON file in `user_data_dir()/presets`, written atomically, so
a crash never leaves half a preset and a library can be synced or edited by hand. The
factory presets ship read-only with the package (`factory_presets.json`); a user preset
of the same name shadows one, and deleting it brings the factory one back. Loading is
forgiving per file: a corrupt or newer-version file is reported in `problems` and the
others still load. Import never loses a preset: a name already taken by a different
preset gets a " (2)" suffix; an identical one is skipped.

A split preset (`split`: named stems, each with its own query) renders several stems that
sum to the input in one pass. Spans (`positive_spans`, seconds of the clip being rendered)
are example shots taken from the input itself.

Query embeddings are not cached here: the runtime's `EmbeddingCache` keys each text and
audio shot by the model package digest, so a preset's condition is cheap to rebuild and
can never be stale for another package.
"""

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.files import write_json_atomic
from clapsep.host.chains import EffectSpec, parse_chain
from clapsep.host.render import REST, STEMS, check_split_names
from clapsep.host.runtime.sessions import PRECISIONS
from clapsep.paths import user_data_dir

PRESET_FORMAT = "clapsep-preset"
LIBRARY_FORMAT = "clapsep-preset-library"
FORMAT_VERSION = 1

Span = tuple[float, float]
_TEXTS = ("positive_text", "negative_text")
_LISTS = ("positive_audio", "negative_audio")
_SPANS = ("positive_spans", "negative_spans")


@dataclass(frozen=True, kw_only=True)
class QueryFields:
    """A query's two sides as a preset file holds them: text, audio files, spans of the input."""

    positive_text: str = ""
    negative_text: str = ""
    positive_audio: tuple[str, ...] = ()
    negative_audio: tuple[str, ...] = ()
    positive_spans: tuple[Span, ...] = ()
    negative_spans: tuple[Span, ...] = ()

    def has_query(self) -> bool:
        return any(getattr(self, name) for name in (*_TEXTS, *_LISTS, *_SPANS))


@dataclass(frozen=True, kw_only=True)
class SplitStem(QueryFields):
    """One stem of a split: its name and the query that claims its part of the input."""

    name: str

    def __post_init__(self) -> None:
        if not self.has_query():
            raise UserError(f"split stem {self.name!r} has no query")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, **_query_json(self)}


@dataclass(frozen=True)
class Preset(QueryFields):
    """What to isolate and how; `notes` says in words what the preset targets. A split
    preset's stems each carry their own query (its top-level query, if any, is unused)."""

    name: str
    category: str = ""
    tags: tuple[str, ...] = ()
    notes: str = ""
    audio_weight: float = 0.5
    stems: tuple[str, ...] = STEMS
    atten_limit_db: float | None = None
    gains_db: Mapping[str, float] = field(default_factory=dict)
    pre_chain: tuple[EffectSpec, ...] = ()
    post_chain: tuple[EffectSpec, ...] = ()
    split: tuple[SplitStem, ...] = ()
    precision: str | None = None  # the render's --precision when the command names none

    def __post_init__(self) -> None:
        if self.split and self.stems == STEMS:  # the default: every stem of the split
            object.__setattr__(self, "stems", (*self.split_names, REST))
        if not self.name.strip():
            raise UserError("a preset needs a name")
        if bad := _unprintable(self.name):
            raise UserError(
                f"preset name {self.name!r} contains control characters "
                f"({', '.join(f'U+{ord(c):04X}' for c in bad)}): a name is one line of "
                "printable text"
            )
        if not self.has_query() and not self.split:
            raise UserError(
                f"preset {self.name!r} has no query: give a positive or negative text or audio"
            )
        if not 0 <= self.audio_weight <= 1:
            raise UserError(f"preset {self.name!r}: audio weight must be between 0 and 1")
        try:
            check_split_names(self.split_names)
        except UserError as exc:
            raise UserError(f"preset {self.name!r}: {exc}") from None
        known = (*self.split_names, REST) if self.split else STEMS
        if not self.stems or set(self.stems) - set(known) or set(self.gains_db) - set(known):
            raise UserError(f"preset {self.name!r}: stems and gains must name {', '.join(known)}")
        if self.atten_limit_db is not None and self.atten_limit_db < 0:
            raise UserError(f"preset {self.name!r}: attenuation limit must be >= 0 dB")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise UserError(
                f"preset {self.name!r}: precision must be one of {', '.join(PRECISIONS)}"
            )

    @classmethod
    def with_query(
        cls,
        base: "Preset | None",
        positive_text: str = "",
        positive_audio: Sequence[str] = (),
        negative_text: str = "",
        negative_audio: Sequence[str] = (),
        audio_weight: float | None = None,
        name: str = "",
        positive_spans: Sequence[Span] = (),
        negative_spans: Sequence[Span] = (),
    ) -> "Preset":
        """`base` with each query side given here (a text, audio and/or spans) replacing its own.

        Without a base it is a new preset named `name`, else by the query's first words:
        the CLI's `--query` and a job's inline query name their output files that way.
        """
        changes: dict[str, Any] = {}
        if positive_text or positive_audio or positive_spans:
            changes.update(
                positive_text=positive_text,
                positive_audio=tuple(positive_audio),
                positive_spans=tuple(positive_spans),
            )
        if negative_text or negative_audio or negative_spans:
            changes.update(
                negative_text=negative_text,
                negative_audio=tuple(negative_audio),
                negative_spans=tuple(negative_spans),
            )
        if audio_weight is not None:
            changes["audio_weight"] = audio_weight
        if base is not None:
            return replace(base, **changes)
        query = (
            positive_text or negative_text or ("span query" if positive_spans else "audio query")
        )
        words = "".join(" " if _unprintable(c) else c for c in query).split()[:4]
        return cls(name=name or " ".join(words) or "audio query", **changes)

    @property
    def split_names(self) -> tuple[str, ...]:
        return tuple(stem.name for stem in self.split)

    @property
    def slug(self) -> str:
        """The name as a file-name part: lower case, words joined by '-'."""
        return slugify(self.name)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": PRESET_FORMAT, "version": FORMAT_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("pre_chain", "post_chain", "split"):
                value = [item.to_json() for item in value]
            elif f.name in _SPANS:
                value = [list(span) for span in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            data[f.name] = value
        return data

    @classmethod
    def from_json(cls, data: Any) -> "Preset":
        """A preset from its JSON object; raises `UserError` naming what is wrong."""
        _check_format(data, PRESET_FORMAT)
        known = {f.name for f in fields(cls)}
        if unknown := set(data) - known - {"format", "version"}:
            raise UserError(f"unknown preset field(s): {', '.join(sorted(unknown))}")
        if not isinstance(data.get("name"), str):
            raise UserError("a preset needs a name")
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for key in ("category", "notes", *_TEXTS):
            if not isinstance(values.get(key, ""), str):
                raise UserError(f"preset {data['name']!r}: {key} must be a string")
        try:
            values.update(_query_values(values))
            if "tags" in values or "stems" in values:
                values.update(_strings(values, ("tags", "stems")))
            if "split" in values:
                if not isinstance(values["split"], list):
                    raise ValueError("split must be a list of stems")
                values["split"] = tuple(_split_stem(item) for item in values["split"])
            for key in ("pre_chain", "post_chain"):
                values[key] = parse_chain(values.get(key))
            values["gains_db"] = {
                str(k): float(v) for k, v in (values.get("gains_db") or {}).items()
            }
            if values.get("atten_limit_db") is not None:
                values["atten_limit_db"] = float(values["atten_limit_db"])
            values["audio_weight"] = float(values.get("audio_weight", 0.5))
            return cls(**values)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise UserError(f"preset {data.get('name')!r} has a malformed value ({exc})") from None


def _query_json(query: QueryFields) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(query, name) for name in _TEXTS}
    data.update({name: list(getattr(query, name)) for name in _LISTS})
    data.update({name: [list(span) for span in getattr(query, name)] for name in _SPANS})
    return data


def _strings(values: Mapping[str, Any], keys: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The lists among `keys` of a JSON object as tuples of strings (ValueError if not lists)."""
    out = {}
    for key in keys:
        if key in values:
            if not isinstance(values[key], list):
                raise ValueError(f"{key} must be a list")
            out[key] = tuple(str(v) for v in values[key])
    return out


def _query_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The query fields of a JSON object, checked and typed (ValueError naming the field)."""
    out: dict[str, Any] = {}
    for key in _TEXTS:
        if not isinstance(values.get(key, ""), str):
            raise ValueError(f"{key} must be a string")
        if key in values:
            out[key] = values[key]
    out.update(_strings(values, _LISTS))
    for key in _SPANS:
        if key in values:
            spans = values[key]
            if not isinstance(spans, list) or not all(
                isinstance(s, list) and len(s) == 2 for s in spans
            ):
                raise ValueError(f"{key} must be a list of [start, end] seconds")
            out[key] = tuple((float(a), float(b)) for a, b in spans)
    return out


def _split_stem(data: Any) -> SplitStem:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError("each split stem needs a name")
    known = {"name", *_TEXTS, *_LISTS, *_SPANS}
    if unknown := set(data) - known:
        raise ValueError(f"unknown split stem field(s): {', '.join(sorted(unknown))}")
    return SplitStem(name=data["name"], **_query_values(data))


# Control characters (C0, DEL, C1: newlines, tabs, terminal escapes), line and paragraph
# separators, and the bidirectional embeddings, overrides and isolates that reorder what a
# terminal or list shows.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unprintable(text: str) -> list[str]:
    """The characters of `text` that may not appear in a one-line name, in order, once each."""
    return list(
        dict.fromkeys(
            c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI_CONTROLS
        )
    )


def slugify(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:48].strip("-")


def _check_format(data: Any, expected: str) -> None:
    if not isinstance(data, dict) or data.get("format") != expected:
        raise UserError(f"not a {expected} file (its 'format' is not {expected!r})")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise UserError(f"{expected} file has no valid version")
    if version > FORMAT_VERSION:
        raise UserError(
            f"made by a newer clapsep-studio ({expected} version {version}, "
            f"this one reads up to {FORMAT_VERSION}); update clapsep-studio"
        )


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not readable JSON ({exc})") from None
    except RecursionError:  # json's decoder recurses once per nested array or object
        raise UserError(f"{path} is not readable JSON (nested too deeply)") from None


def presets_in_file(path: Path) -> list[Preset]:
    """The presets of a preset or library file; an error names the file."""
    data = read_json(path)
    try:
        return presets_in(data)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def presets_in(data: Any) -> list[Preset]:
    """The presets in a preset file or a library file."""
    if isinstance(data, dict) and data.get("format") == LIBRARY_FORMAT:
        _check_format(data, LIBRARY_FORMAT)
        if not isinstance(data.get("presets"), list):
            raise UserError("a preset library file needs a 'presets' list")
        return [Preset.from_json(item) for item in data["presets"]]
    return [Preset.from_json(data)]


def factory_presets() -> list[Preset]:
    """The presets shipped with clapsep-studio."""
    return presets_in(
        json.loads(
            files("clapsep.host").joinpath("factory_presets.json").read_text(encoding="utf-8")
        )
    )


class PresetLibrary:
    """The user's presets (one file each in `directory`) over the factory ones."""

    def __init__(self, directory: Path | None = None, include_factory: bool = True) -> None:
        self.directory = Path(directory) if directory is not None else user_data_dir() / "presets"
        self.include_factory = include_factory
        self.problems: list[str] = []
        self._factory: dict[str, Preset] = {}
        self._user: dict[str, tuple[Preset, Path]] = {}
        self.reload()

    def reload(self) -> None:
        """Read the folder again; each bad file becomes one line in `problems`."""
        self.problems = []
        self._factory = (
            {p.name.casefold(): p for p in factory_presets()} if self.include_factory else {}
        )
        self._user = {}
        for path in sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []:
            try:
                preset = Preset.from_json(read_json(path))
            except UserError as exc:
                self.problems.append(f"{path.name}: {exc}")
                continue
            if preset.name.casefold() in self._user:
                self.problems.append(f"{path.name}: duplicate of preset {preset.name!r}, ignored")
                continue
            self._user[preset.name.casefold()] = (preset, path)

    def presets(self) -> list[Preset]:
        merged = {**self._factory, **{k: p for k, (p, _) in self._user.items()}}
        return sorted(merged.values(), key=lambda p: (p.category.casefold(), p.name.casefold()))

    def get(self, name: str) -> Preset:
        key = name.casefold()
        if key in self._user:
            return self._user[key][0]
        if key in self._factory:
            return self._factory[key]
        names = ", ".join(p.name for p in self.presets())
        raise UserError(f"no preset named {name!r}; known: {names or 'none'}")

    def is_factory(self, name: str) -> bool:
        return name.casefold() in self._factory and name.casefold() not in self._user

    def path_of(self, name: str) -> Path | None:
        entry = self._user.get(name.casefold())
        return entry[1] if entry else None

    def save(self, preset: Preset, overwrite: bool = False) -> Path:
        """Store a user preset; refuses to replace another user preset unless `overwrite`."""
        existing = self.path_of(preset.name)
        if existing and not overwrite:
            raise UserError(
                f"a preset named {preset.name!r} exists; choose another name or overwrite it"
            )
        path = existing or self._free_path(preset.slug or "preset")
        write_json_atomic(path, preset.to_json())
        self._user[preset.name.casefold()] = (preset, path)
        return path

    def delete(self, name: str) -> None:
        path = self.path_of(name)
        if path is None:
            kind = (
                "a factory preset and cannot be deleted"
                if name.casefold() in self._factory
                else "not a user preset"
            )
            raise UserError(f"{name!r} is {kind}")
        path.unlink(missing_ok=True)
        del self._user[name.casefold()]

    def import_file(self, path: Path) -> list[Preset]:
        """Add the presets of a preset or library file; returns them as stored (renamed on
        clash)."""
        return [stored for preset in presets_in_file(path) if (stored := self._import(preset))]

    def export(self, names: Iterable[str], path: Path) -> None:
        """One preset as a preset file, several as one library file."""
        chosen = [self.get(name) for name in names]
        if not chosen:
            raise UserError("nothing to export: name at least one preset")
        data = (
            chosen[0].to_json()
            if len(chosen) == 1
            else {
                "format": LIBRARY_FORMAT,
                "version": FORMAT_VERSION,
                "presets": [p.to_json() for p in chosen],
            }
        )
        write_json_atomic(Path(path), data)

    def _import(self, preset: Preset) -> Preset | None:
        name, n = preset.name, 1
        while (key := name.casefold()) in self._user or key in self._factory:
            if self.get(name).to_json() == replace(preset, name=name).to_json():
                return None  # already there, identical
            n += 1
            name = f"{preset.name} ({n})"
        stored = replace(preset, name=name)
        self.save(stored)
        return stored

    def _free_path(self, slug: str) -> Path:
        taken = {p for _, p in self._user.values()}
        path, n = self.directory / f"{slug}.json", 1
        while path in taken or path.exists():
            n += 1
            path = self.directory / f"{slug}-{n}.json"
        return path


def resolve_preset(name_or_file: str, library: PresetLibrary | None = None) -> Preset:
    """A preset by library name, or from a preset file path (`.json`)."""
    path = Path(name_or_file).expanduser()
    if name_or_file.endswith(".json") or path.is_file():
        found = presets_in_file(path)
        if len(found) != 1:
            raise UserError(f"{path} holds {len(found)} presets; import it and pick one by name")
        return found[0]
    return (library or PresetLibrary()).get(name_or_file)
