"""The separator graphs on OpenVINO's CPU plugin in bf16, behind onnxruntime's `run` surface.

Why a second runtime: onnxruntime's CPU kernels have no bf16 path, while OpenVINO reads
the same ONNX files and runs them in bf16 on CPUs with AVX512-BF16 or AMX (measured by
`python -m bench.backends`: the HTS-AT encoder about 2x faster, the whole network about
1.4x, at 47 dB SNR against fp32 on the bundled model). It is optional (the `[openvino]`
extra) and CPU-only, so it never sits beside onnxruntime-gpu on a CUDA machine's path.
"""

from pathlib import Path
from typing import Any

import numpy as np

from clapsep.errors import UserError

OPENVINO_CPU = "OpenVINO CPU (bf16)"
_EXTRA = "pip install 'clapsep-studio[openvino]'"


def bf16_problem() -> str | None:
    """Why bf16 cannot run here, or None: OpenVINO missing, or a CPU without bf16."""
    try:
        import openvino
    except ImportError:
        return f"--precision bf16 needs OpenVINO, from the [openvino] extra: {_EXTRA}"
    capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    if "BF16" not in capabilities:
        return "--precision bf16 needs a CPU with AVX512-BF16 or AMX; this one has neither"
    return None


class OpenVinoSession:
    """One compiled graph: `run(output_names, feed) -> [arrays]`, as `InferenceSession.run`."""

    def __init__(self, graph: Path, threads: int) -> None:
        problem = bf16_problem()
        if problem:
            raise UserError(problem)
        import openvino

        self._compiled = openvino.Core().compile_model(
            str(graph),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": "bf16",
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": "LATENCY",
            },
        )
        self._outputs = {out.get_any_name(): out for out in self._compiled.outputs}

    def run(self, output_names: list[str] | None, feed: dict[str, Any]) -> list[np.ndarray]:
        result = self._compiled.create_infer_request().infer(feed)  # one per call: thread-safe
        names = output_names or list(self._outputs)
        return [np.asarray(result[self._outputs[name]], dtype=np.float32) for name in names]
