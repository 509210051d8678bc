"""Import laion-clap's network classes without its hub-touching package `__init__`.

`import laion_clap` runs `laion_clap/__init__.py`, which imports `hook.py` and
`training/data.py`; those call `RobertaTokenizer.from_pretrained(...)` (and BERT/BART)
at import time, i.e. a network download. The classes we need (`HTSAT_Swin_Transformer`,
`SwinTransformerBlock`, `MLPLayers`, `CLAPAudioCfp`) live in `laion_clap.clap_module`,
which needs no network. We register the top-level package as a bare namespace so that
its `__init__` never runs, then import the sub-modules normally.
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path


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


_register_bare_package()
htsat = importlib.import_module("laion_clap.clap_module.htsat")
clap_model = importlib.import_module("laion_clap.clap_module.model")

HTSAT_Swin_Transformer = htsat.HTSAT_Swin_Transformer
SwinTransformerBlock = htsat.SwinTransformerBlock
WindowAttention = htsat.WindowAttention
MLPLayers = clap_model.MLPLayers
CLAPAudioCfp = clap_model.CLAPAudioCfp
