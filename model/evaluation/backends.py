"""What gets evaluated: any callable `(mixture [S] @ 32 kHz, positive, negative) -> estimate [S]`,
each query side a `QuerySide` (caption and/or audio example files) or None.

`TorchBackend` runs a model directory (what `clapsep train` and `convert-official`
write); `OnnxBackend` runs a model package through the torch-free `host.runtime`, so the
numbers are those of what users run. `open_backend` picks one from what the path holds.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from clapsep.errors import UserError
from clapsep.package_format import MANIFEST_FILE

if TYPE_CHECKING:  # torch stays a lazy import
    from clapsep.host.runtime import QuerySpec
    from clapsep.model.condition import Query

MODEL_CONFIG_FILE = "config.json"  # model.checkpoints' model directory


@dataclass(frozen=True)
class QuerySide:
    """One query side, backend-neutral: each backend turns it into its own query type."""

    text: str | None = None
    audio: tuple[Path, ...] = ()


Separate = Callable[[np.ndarray, QuerySide | None, QuerySide | None], np.ndarray]


class TorchBackend:
    """A CLAPSep model directory on torch, text and audio queries through its CLAP."""

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        import torch

        from clapsep.model.checkpoints import load_model_dir
        from clapsep.model.condition import Query

        self._torch, self._query = torch, Query
        self.device = torch.device(
            "cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
        )
        self.model = load_model_dir(model_dir).to(self.device)
        self.name = f"torch:{model_dir}"

    def _side(self, side: QuerySide | None) -> "Query | None":
        """A `model.condition.Query`; shots decoded at 48 kHz, whole (the model crops them)."""
        if side is None:
            return None
        from clapsep.model.configs import QUERY_RATE
        from clapsep.model.data.audio import load_audio

        shots = [
            self._torch.from_numpy(load_audio(p, rate=QUERY_RATE)).to(self.device)
            for p in side.audio
        ]
        return self._query(text=side.text, audio=shots)

    def __call__(
        self, mixture: np.ndarray, positive: QuerySide | None, negative: QuerySide | None
    ) -> np.ndarray:
        torch = self._torch
        with torch.no_grad():
            condition = self.model.condition(self._side(positive), self._side(negative))
            x = torch.from_numpy(np.ascontiguousarray(mixture, dtype=np.float32))[None].to(
                self.device
            )
            return self.model(x, condition.to(self.device))[0].cpu().numpy()


class OnnxBackend:
    """A model package on onnxruntime (`host.runtime`), exactly the render path's graphs."""

    def __init__(self, package_dir: Path, device: str = "cpu", precision: str = "fp32") -> None:
        from clapsep.host.runtime import QueryEncoder, QuerySpec, Separator, load_package

        package = load_package(package_dir)
        self._spec = QuerySpec
        self.queries = QueryEncoder(package, device)
        self.separator = Separator(package, device, precision=precision)
        self.name = f"onnx:{package_dir}" + ("" if precision == "fp32" else f":{precision}")

    def _side(self, side: QuerySide | None) -> "QuerySpec | None":
        return None if side is None else self._spec(text=side.text, audio_files=side.audio)

    def __call__(
        self, mixture: np.ndarray, positive: QuerySide | None, negative: QuerySide | None
    ) -> np.ndarray:
        condition = self.queries.condition(self._side(positive), self._side(negative))
        x = np.ascontiguousarray(mixture, dtype=np.float32)[None]
        return self.separator.separate(x, np.asarray(condition, dtype=np.float32)[None])[0]


def open_backend(
    path: Path, device: str = "cpu", precision: str = "fp32"
) -> TorchBackend | OnnxBackend:
    """A model package (manifest.json), a model directory (config.json), or a training run
    folder (its `best/`, else its `model/`). `precision` is a package's (torch runs fp32)."""
    path = Path(path)
    if (path / MANIFEST_FILE).is_file():
        return OnnxBackend(path, device, precision)
    if precision != "fp32":
        raise UserError(f"--precision {precision} needs a model package, not {path}")
    if (path / MODEL_CONFIG_FILE).is_file():
        return TorchBackend(path, device)
    for sub in ("best", "model"):
        if (path / sub / MODEL_CONFIG_FILE).is_file():
            return TorchBackend(path / sub, device)
    raise UserError(
        f"{path} is neither a model package, a model directory nor a training run folder"
    )
