"""Score a rendered stem against the example clip's reference stems (SI-SDR, in dB).

Used by `.ci/demo`: prints the mixture's and the estimate's SI-SDR against the sum of the
given references and the improvement, so a run says in numbers how well it isolated.
"""

import argparse

import numpy as np
from pedalboard.io import AudioFile


def read(path: str) -> np.ndarray:
    with AudioFile(path) as f:
        return f.read(f.frames)


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR over all channels (Le Roux et al. 2019)."""
    estimate, reference = (
        estimate.reshape(-1).astype(np.float64),
        reference.reshape(-1).astype(np.float64),
    )
    target = (estimate @ reference / (reference @ reference)) * reference
    return float(10 * np.log10((target @ target) / ((estimate - target) @ (estimate - target))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mixture")
    parser.add_argument("estimate")
    parser.add_argument(
        "--reference", nargs="+", required=True, help="reference stems; their sum is the target"
    )
    parser.add_argument("--label", default="estimate")
    args = parser.parse_args()
    reference = sum(read(p) for p in args.reference)
    before, after = si_sdr(read(args.mixture), reference), si_sdr(read(args.estimate), reference)
    print(
        f"{args.label}: SI-SDR mixture {before:.1f} dB -> stem {after:.1f} dB "
        f"(improvement {after - before:+.1f} dB)"
    )


if __name__ == "__main__":
    main()
