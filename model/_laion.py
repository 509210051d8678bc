"""Import laion-clap's network classes without its hub-touching package `__init__`.

`import laion_clap` runs `laion_clap/__init__.py`, which imports `hook.py` and
`training/data.py`; those call `RobertaTokenizer.from_pretrained(...)` (and BERT/BART)
at import time, i.e. a network download. The classes we need (`HTSAT_Swin_Transformer`,
`SwinTransformerBlock`, `MLPLayers`, `CLAPAudioCfp`) live in `laion_clap.clap_module`,
which needs no network. We register the top-level package as a bare namespace so that
its `__init__` never runs, then import the sub-modules normally.

One fix is applied to `htsat.window_reverse`: it computes the batch size as
`int(windows.shape[0] / float)`, which an ONNX export burns in as the batch of the
example input; a graph traced at batch 2 then scrambles channels at batch 1 (the query
encoder's usual batch). The replacement lets the batch follow the input.
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path

import torch


def _register_bare_package() -> None:
    if "laion_clap" in sys.modules:
        return
    spec = importlib.util.find_spec("laion_clap")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("laion-clap is not installed: pip install 'clapsep-studio[train]'")
    package = types.ModuleType("laion_clap")
    package.__path__ = [str(Path(p)) for p in spec.submodule_search_locations]
    package.__spec__ = spec
    sys.modules["laion_clap"] = package


def window_reverse(
    windows: torch.Tensor, window_size: int, height: int, width: int
) -> torch.Tensor:
    """(windows * B, ws, ws, C) -> (B, H, W, C), with B left to the input's shape."""
    channels = windows.shape[-1]
    x = windows.view(
        -1, height // window_size, width // window_size, window_size, window_size, channels
    )
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, height, width, channels)


_register_bare_package()
htsat = importlib.import_module("laion_clap.clap_module.htsat")
htsat.window_reverse = window_reverse
clap_model = importlib.import_module("laion_clap.clap_module.model")

HTSAT_Swin_Transformer = htsat.HTSAT_Swin_Transformer
SwinTransformerBlock = htsat.SwinTransformerBlock
WindowAttention = htsat.WindowAttention
MLPLayers = clap_model.MLPLayers
CLAPAudioCfp = clap_model.CLAPAudioCfp
