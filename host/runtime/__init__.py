"""The torch-free runtime: model packages, onnxruntime sessions and query encoding.

`load_package` verifies a package; `Separator` runs its separation graphs on windows
(`encode` once into `EncodedWindows`, `decode` per condition);
`QueryEncoder` turns `QuerySpec`s into the condition vector; `NoiseEstimator` runs the
optional off-query noise graph of models trained with noise heads. Nothing here imports
torch.
"""

from clapsep.host.runtime.package import ModelPackage, load_package
from clapsep.host.runtime.queries import AudioSpan, QueryEncoder, QuerySpec
from clapsep.host.runtime.sessions import EncodedWindows, NoiseEstimator, Separator

__all__ = [
    "AudioSpan",
    "EncodedWindows",
    "ModelPackage",
    "NoiseEstimator",
    "QueryEncoder",
    "QuerySpec",
    "Separator",
    "load_package",
]
