"""The host API front ends render through: a model package, a query, stems on disk.

`Engine` holds one verified package with its separator and query encoders, so the CLI,
the bridge and the panel load a model once and render many clips with it. It turns a
preset (or a bare query) into the condition vector, builds `RenderSettings` from the
package's own rules (rate, window) and renders through the render cache. onnxruntime
sessions are thread-safe, so one engine may serve several worker threads.
"""

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clapsep.errors import UserError
from clapsep.host.presets import Preset
from clapsep.host.render import RenderedStem, RenderSettings, SeparateFn
from clapsep.host.render_cache import RenderCache, cached_render
from clapsep.host.runtime import QueryEncoder, QuerySpec, Separator, load_package
from clapsep.host.windowing import Cancel, Progress
from clapsep.paths import bundled_model_dir, default_model_dir, user_data_dir

DEFAULT_FILE = "default"
OVERLAP_FRACTION = 5  # overlap = window / 5: 2 s of crossfade on 10 s windows


def installed_packages(directory: Path | None = None) -> list[Path]:
    """Model package folders (those with a manifest) in the model directory."""
    directory = directory or default_model_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if (p / "manifest.json").is_file())


def default_package(directory: Path | None = None) -> Path:
    """The package named in `<models>/default`, else the only one installed, else the bundled one."""
    directory = directory or default_model_dir()
    marker = directory / DEFAULT_FILE
    if marker.is_file():
        name = marker.read_text(encoding="utf-8").strip()
        if not (directory / name / "manifest.json").is_file():
            raise UserError(f"{marker} names {name!r}, which is not a model package in {directory}")
        return directory / name
    found = installed_packages(directory)
    if len(found) == 1:
        return found[0]
    if not found and (bundled_model_dir() / "manifest.json").is_file():
        return bundled_model_dir()
    if not found:
        raise UserError(
            f"no model package installed in {directory}; export one into it (clapsep export --config "
            f"official --weights WEIGHTS --out {directory / 'clapsep-official'}) or pass --model PACKAGE")
    names = ", ".join(p.name for p in found)
    raise UserError(f"several model packages in {directory} ({names}); write one name into "
                    f"{marker} or pass --model PACKAGE")


@dataclass(frozen=True)
class Query:
    """What to keep and what to remove, and a short name for output files."""

    positive: QuerySpec | None
    negative: QuerySpec | None
    slug: str

    @classmethod
    def from_preset(cls, preset: Preset) -> "Query":
        def side(text: str, audio: tuple[str, ...]) -> QuerySpec | None:
            if not text and not audio:
                return None
            return QuerySpec(text or None, tuple(Path(a).expanduser() for a in audio), preset.audio_weight)

        return cls(side(preset.positive_text, preset.positive_audio),
                   side(preset.negative_text, preset.negative_audio), preset.slug or "query")

    def describe(self) -> dict[str, Any]:
        def side(spec: QuerySpec | None) -> dict[str, Any] | None:
            return None if spec is None else {
                "text": spec.text, "audio": [str(p) for p in spec.audio_files], "audio_weight": spec.audio_weight}

        return {"positive": side(self.positive), "negative": side(self.negative), "slug": self.slug}


def preset_settings(preset: Preset | None, **overrides: Any) -> dict[str, Any]:
    """`RenderSettings` keyword arguments from a preset, then the non-None `overrides`."""
    values: dict[str, Any] = {}
    if preset is not None:
        values = {"stems": preset.stems, "atten_limit_db": preset.atten_limit_db, "gains_db": dict(preset.gains_db),
                  "pre_chain": preset.pre_chain, "post_chain": preset.post_chain}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values


class Engine:
    """One loaded model package: condition vectors and cached renders."""

    def __init__(self, package: Path | None = None, device: str = "auto", cache: RenderCache | None = None,
                 threads: int | None = None) -> None:
        self.package = load_package(package or default_package())
        self.separator = Separator(self.package, device, threads=threads)
        self.encoder = QueryEncoder(self.package, device, cache_dir=user_data_dir() / "cache" / "embeddings")
        self.cache = cache

    @property
    def provider(self) -> str:
        return self.separator.provider

    def describe(self) -> dict[str, Any]:
        pkg = self.package
        return {"name": pkg.name, "version": pkg.version, "digest": pkg.digest, "path": str(pkg.path),
                "provider": self.provider, "provider_note": self.separator.provider_note}

    def condition(self, query: Query) -> np.ndarray:
        if query.positive is None and query.negative is None:
            raise UserError("no query: give --query/--query-audio, --negative/--negative-audio or --preset")
        return self.encoder.condition(query.positive, query.negative)

    def separate_fn(self, condition: np.ndarray) -> SeparateFn:
        rows = np.asarray(condition, dtype=np.float32)[None, :]
        return lambda batch: self.separator.separate(batch, np.repeat(rows, batch.shape[0], axis=0))

    def settings(self, window_seconds: float | None = None, overlap_seconds: float | None = None,
                 **kwargs: Any) -> RenderSettings:
        """Settings at the package's rate, with its window (or a shorter one) and overlap."""
        rate, longest = self.package.sample_rate, self.package.window_samples
        window = longest if window_seconds is None else round(window_seconds * rate)
        if not self.package.min_window_samples <= window <= longest:
            raise UserError(f"the window must be {self.package.min_window_samples / rate:g}.."
                            f"{longest / rate:g} s for model {self.package.name}")
        overlap = window // OVERLAP_FRACTION if overlap_seconds is None else round(overlap_seconds * rate)
        return RenderSettings(model_rate=rate, window=window, overlap=overlap, **kwargs)

    def render(self, source: Path, out_dir: Path, query: Query, settings: RenderSettings,
               progress: Progress | None = None, cancel: Cancel | None = None,
               condition: np.ndarray | None = None) -> tuple[list[RenderedStem], bool]:
        """Render one file: (stems written, whether they came from the render cache)."""
        condition = self.condition(query) if condition is None else condition
        identity = hashlib.sha256(self.package.digest.encode() + np.asarray(condition, np.float32).tobytes())
        settings = replace(settings, model_rate=self.package.sample_rate)
        return cached_render(source, out_dir, self.separate_fn(condition), query.slug, settings, self.cache,
                             identity.hexdigest(), progress, cancel)


def stem_records(rendered: list[RenderedStem], cached: bool) -> list[dict[str, Any]]:
    """JSON-ready description of written stems."""
    return [{"input": str(r.source), "stem": r.stem, "path": str(r.path), "frames": r.frames,
             "sample_rate": r.sample_rate, "channels": r.channels, "cached": cached} for r in rendered]
