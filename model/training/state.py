"""Training state on disk: everything an exact resume needs, written atomically.

A checkpoint holds the tuned tensors (trainable parameters, all buffers, noise heads),
the optimiser and scheduler, the step, the best validation score and every random
state the loop draws from (the query generator and torch's global RNG, which drives
drop-path and SpecAugment). Frozen CLAP weights are rebuilt from the config, so a
checkpoint of the official model stays ~200 MB instead of ~800 MB. Data randomness
needs no state: every item is a function of (seed, epoch, index).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from clapsep.files import replacing
from clapsep.model.checkpoints import load_checkpoint

STATE_FILE = "last.pt"


def tuned_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """Trainable parameters and buffers: what training changes."""
    keep = {n for n, p in module.named_parameters() if p.requires_grad} | {
        n for n, _ in module.named_buffers()
    }
    return {k: v.detach().cpu() for k, v in module.state_dict().items() if k in keep}


@dataclass
class Progress:
    step: int = 0
    best: float = float("-inf")


def rng_state(generator: torch.Generator) -> dict[str, Any]:
    """This process's random state (each DDP rank has its own; rank 0 saves them all)."""
    state = {"generator": generator.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_state(
    run_dir: Path,
    objective: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    rng: list[dict[str, Any]],
    progress: Progress,
) -> Path:
    state = {
        "step": progress.step,
        "best": progress.best,
        "tuned": tuned_state(objective),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng,
    }
    path = Path(run_dir) / STATE_FILE
    with replacing(path) as temp:
        torch.save(state, temp)
    return path


def load_state(
    run_dir: Path,
    objective: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator,
    rank: int = 0,
) -> Progress | None:
    """Restore a run folder's last checkpoint into freshly built objects; None if there is none."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        return None
    state = load_checkpoint(path)
    _, unexpected = objective.load_state_dict(state["tuned"], strict=False)
    if unexpected or set(tuned_state(objective)) - set(state["tuned"]):
        raise ValueError(f"{path} does not fit this configuration (unexpected {unexpected[:3]})")
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    if rank >= len(state["rng"]):
        raise ValueError(
            f"{path} was written by {len(state['rng'])} process(es); resume with as many"
        )
    rng = state["rng"][rank]
    generator.set_state(rng["generator"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return Progress(step=int(state["step"]), best=float(state["best"]))


def write_carry(run_dir: Path, out: Path) -> Path:
    """The run folder's checkpoint made small enough to keep beside the package, so a run
    on a machine that does not outlive its session can continue on the next one.

    Tuned float tensors are stored as float16 (the packages ship float16 weights anyway)
    and the optimiser keeps its settings but not its moments, which AdamW rebuilds within
    a few hundred steps. The best score is forgotten, so the first validation of the
    continued run writes its `best/` model directory again."""
    state = load_checkpoint(Path(run_dir) / STATE_FILE)
    state["tuned"] = {
        k: v.half() if v.is_floating_point() else v for k, v in state["tuned"].items()
    }
    state["optimizer"] = {"state": {}, "param_groups": state["optimizer"]["param_groups"]}
    state["best"] = float("-inf")
    with replacing(Path(out)) as temp:
        torch.save(state, temp)
    return Path(out)


def seed_from_carry(carry: Path, run_dir: Path) -> bool:
    """Start an empty run folder from a carry-over file; False when it has a checkpoint."""
    target = Path(run_dir) / STATE_FILE
    if target.is_file():
        return False
    load_checkpoint(carry)  # refuses anything but plain tensors and numbers
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as temp:
        Path(temp).write_bytes(Path(carry).read_bytes())
    return True
