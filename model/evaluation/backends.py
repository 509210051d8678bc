"""What gets evaluated: any callable `(mixture [S] @ 32 kHz, positive, negative) -> estimate [S]`.

`TorchBackend` runs a model directory (what `clapsep train` and `convert-official`
write); `OnnxBackend` runs a model package through the torch-free `host.runtime`, so the
numbers are those of what users run. `open_backend` picks one from what the path holds.
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from host.errors import UserError

Separate = Callable[[np.ndarray, str, str | None], np.ndarray]
MANIFEST_FILE = "manifest.json"  # host.runtime's package manifest
MODEL_CONFIG_FILE = "config.json"  # model.checkpoints' model directory


class TorchBackend:
    """A CLAPSep model directory on torch, text queries through its CLAP."""

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        import torch

        from model.checkpoints import load_model_dir
        from model.condition import Query

        self._torch, self._query = torch, Query
        self.device = torch.device("cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")
        self.model = load_model_dir(model_dir).to(self.device)
        self.name = f"torch:{model_dir}"

    def __call__(self, mixture: np.ndarray, positive: str, negative: str | None) -> np.ndarray:
        torch, query = self._torch, self._query
        with torch.no_grad():
            condition = self.model.condition(query(text=positive), query(text=negative) if negative else None)
            x = torch.from_numpy(np.ascontiguousarray(mixture, dtype=np.float32))[None].to(self.device)
            return self.model(x, condition.to(self.device))[0].cpu().numpy()


class OnnxBackend:
    """A model package on onnxruntime (`host.runtime`), exactly the render path's graphs."""

    def __init__(self, package_dir: Path, device: str = "cpu") -> None:
        from host.runtime import QueryEncoder, QuerySpec, Separator, load_package

        package = load_package(package_dir)
        self._spec = QuerySpec
        self.queries = QueryEncoder(package, device)
        self.separator = Separator(package, device)
        self.name = f"onnx:{package_dir}"

    def __call__(self, mixture: np.ndarray, positive: str, negative: str | None) -> np.ndarray:
        condition = self.queries.condition(self._spec(text=positive), self._spec(text=negative) if negative else None)
        x = np.ascontiguousarray(mixture, dtype=np.float32)[None]
        return self.separator.separate(x, np.asarray(condition, dtype=np.float32)[None])[0]


def open_backend(path: Path, device: str = "cpu") -> TorchBackend | OnnxBackend:
    """A model package (manifest.json), a model directory (config.json), or a training run
    folder (its `best/`, else its `model/`)."""
    path = Path(path)
    if (path / MANIFEST_FILE).is_file():
        return OnnxBackend(path, device)
    if (path / MODEL_CONFIG_FILE).is_file():
        return TorchBackend(path, device)
    for sub in ("best", "model"):
        if (path / sub / MODEL_CONFIG_FILE).is_file():
            return TorchBackend(path / sub, device)
    raise UserError(f"{path} is neither a model package, a model directory nor a training run folder")
