"""The torch-free runtime: model packages, onnxruntime sessions and query encoding.

`load_package` verifies a package; `Separator` runs its separation graph on windows;
`QueryEncoder` turns `QuerySpec`s into the condition vector. Nothing here imports torch.
"""

from host.runtime.package import ModelPackage, load_package
from host.runtime.queries import QueryEncoder, QuerySpec
from host.runtime.sessions import Separator

__all__ = ["ModelPackage", "QueryEncoder", "QuerySpec", "Separator", "load_package"]
