"""The training loop: one process or DDP (torchrun), exact resume, validation, logs.

Launch as `clapsep train CONFIG` or `torchrun --nproc_per_node N -m clapsep.host train CONFIG`
(the environment torchrun sets selects DDP: gloo on CPU, nccl on GPU). The run folder
holds `last.pt` (resume state), `metrics.csv`, `tokenizer.json`, and the model
directories `best/` (highest validation SI-SDRi) and `model/` (last step) that
`clapsep export` packages. SIGTERM/SIGINT finish the current step, checkpoint and exit.
"""

import csv
import math
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import default_collate
from tqdm import tqdm

from clapsep.model.checkpoints import save_model_dir
from clapsep.model.noise import NOISE_HEADS_FILE, NoiseHeads
from clapsep.model.separator import CLAPSep
from clapsep.model.training.config import ConfigError, TrainConfig
from clapsep.model.training.losses import si_snr
from clapsep.model.training.queries import QueryBuilder
from clapsep.model.training.setup import (
    batches,
    build_data,
    build_objective,
    build_optimisation,
    build_separator,
    ensure_tokenizer,
    read_catalogues,
)
from clapsep.model.training.state import Progress, load_state, rng_state, save_state

METRICS_FILE = "metrics.csv"


class MetricsLog:
    """`metrics.csv` (always) and TensorBoard (if asked); a resumed run drops rows past its step."""

    def __init__(self, run_dir: Path, logs: tuple[str, ...], start: int) -> None:
        self.path = run_dir / METRICS_FILE
        self.header: list[str] | None = None
        self.rows: list[dict] = []
        if self.path.is_file() and start > 0:
            with self.path.open(newline="") as f:
                reader = csv.DictReader(f)
                self.header = list(reader.fieldnames or [])
                self.rows = [r for r in reader if int(r["step"]) <= start]
        self._flush()
        self.board = None
        if "tensorboard" in logs:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ConfigError("run.logs asks for tensorboard, which is not installed") from None
            self.board = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start + 1)

    def write(self, step: int, values: dict[str, float]) -> None:
        if self.header is None:
            self.header = ["step", *values]
            self._flush()
        row = {"step": step, **{k: f"{v:.6g}" for k, v in values.items() if k in self.header}}
        self.rows.append(row)
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.header).writerow(row)
        if self.board is not None:
            for key, value in values.items():
                self.board.add_scalar(key, value, step)

    def _flush(self) -> None:
        if self.header is None:
            self.path.unlink(missing_ok=True)
            return
        with self.path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.header)
            writer.writeheader()
            writer.writerows(self.rows)


@contextmanager
def stop_requests() -> Iterator[list[bool]]:
    """A flag that SIGTERM/SIGINT set instead of killing the process mid-step."""
    flag = [False]

    def request(signum: int, frame: object) -> None:
        flag[0] = True

    previous = {s: signal.signal(s, request) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _to(batch: dict, device: torch.device) -> dict:
    return {
        k: _to(v, device) if isinstance(v, dict) else v.to(device) if torch.is_tensor(v) else v
        for k, v in batch.items()
    }


@torch.no_grad()
def validate(
    model: CLAPSep,
    queries: QueryBuilder,
    val,
    count: int,
    batch_size: int,
    device: torch.device,
    rank: int,
    world: int,
) -> float:
    """Mean SI-SDRi over the fixed validation pairs (text queries, both sides), all ranks
    together."""
    model.eval()
    total = torch.zeros(2, dtype=torch.float64)
    indices = list(range(min(count, len(val))))[rank::world]
    for first in range(0, len(indices), batch_size):
        batch = _to(default_collate([val[i] for i in indices[first : first + batch_size]]), device)
        condition = queries.texts_only(batch["positive"], batch["negative"])
        estimate = model(batch["mixture"], condition)
        gain = si_snr(estimate, batch["target"]) - si_snr(batch["mixture"], batch["target"])
        total += torch.stack(
            [gain.sum().double().cpu(), torch.tensor(float(len(gain)), dtype=torch.float64)]
        )
    model.train()
    if world > 1:
        dist.all_reduce(total)
    return float(total[0] / total[1]) if total[1] > 0 else float("nan")


def _write_model(
    out: Path, model: CLAPSep, heads: NoiseHeads | None, config: TrainConfig, step: int
) -> None:
    provenance = {
        "source": "clapsep train",
        "step": step,
        "objective": config.objective.mode,
        "train_config": config.to_dict(),
    }
    save_model_dir(
        out,
        model.config,
        {k: v.detach().cpu() for k, v in model.state_dict().items()},
        model.tokenizer.to_str(),
        provenance,
    )
    if heads is not None:
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in heads.state_dict().items()},
            str(out / NOISE_HEADS_FILE),
        )


def _noise_heads(objective: nn.Module) -> NoiseHeads | None:
    return next((m for m in objective.modules() if isinstance(m, NoiseHeads)), None)


def _any_rank(flag: bool, world: int) -> bool:
    """A stop request seen by any rank stops all of them at the same step."""
    if world == 1:
        return flag
    value = torch.tensor([float(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def _checkpoint(
    run_dir: Path,
    objective: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: object,
    generator: torch.Generator,
    progress: Progress,
    rank: int,
    world: int,
) -> None:
    """Rank 0 writes the state with every rank's random state gathered in."""
    rng = [rng_state(generator)]
    if world > 1:
        rng = [None] * world
        dist.all_gather_object(rng, rng_state(generator))
    if rank == 0:
        save_state(run_dir, objective, optimizer, scheduler, rng, progress)


def train(config: TrainConfig, resume: bool = True) -> Path:
    """Run (or continue) the experiment; returns the run folder."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    want_cuda = config.run.device == "cuda" or (
        config.run.device == "auto" and torch.cuda.is_available()
    )
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if want_cuda else "cpu")
    if config.run.threads:
        torch.set_num_threads(config.run.threads)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if want_cuda else "gloo")
    run_dir = Path(config.run.out)
    try:
        return _train(config, resume, run_dir, device, rank, world)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    config: TrainConfig, resume: bool, run_dir: Path, device: torch.device, rank: int, world: int
) -> Path:
    catalogues = read_catalogues(config)
    if rank == 0:
        ensure_tokenizer(config, run_dir, catalogues.captions())
    if world > 1:
        dist.barrier()
    model = build_separator(config, run_dir).to(device)
    objective = build_objective(config, model).to(device)
    optimizer, scheduler = build_optimisation(config, objective)
    generator = torch.Generator().manual_seed(config.run.seed * 7919 + rank)
    torch.manual_seed(config.run.seed * 7919 + rank)
    progress = (
        load_state(run_dir, objective, optimizer, scheduler, generator, rank) if resume else None
    ) or Progress()
    data = build_data(config, catalogues)
    queries = QueryBuilder(model)
    wrapped = DistributedDataParallel(objective) if world > 1 else objective
    streams = {
        name: iter(batches(ds, config, progress.step, rank, world))
        for name, ds in (("supervised", data.train), ("weak", data.weak))
        if ds is not None
    }
    mode = config.objective.mode
    log = MetricsLog(run_dir, config.run.logs, progress.step) if rank == 0 else None
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda" and config.run.bf16
        else nullcontext()
    )
    bar = tqdm(
        total=config.run.max_steps,
        initial=progress.step,
        disable=rank != 0 or not config.run.progress,
        dynamic_ncols=True,
        unit="step",
    )
    heads = _noise_heads(objective)
    with stop_requests() as stop:
        while progress.step < config.run.max_steps and not stop[0]:
            began = time.perf_counter()
            fetched = {name: next(stream) for name, stream in streams.items()}
            batch = (
                fetched
                if mode == "semi"
                else fetched["weak" if mode == "bimodal" else "supervised"]
            )
            with autocast:
                loss, values = wrapped(_to(batch, device), generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(
                optimizer.param_groups[0]["params"], config.optim.grad_clip
            )
            optimizer.step()
            progress.step += 1
            row = {
                "loss": loss.item(),
                "grad_norm": float(grad_norm),
                "lr": optimizer.param_groups[0]["lr"],
                "step_seconds": time.perf_counter() - began,
                **values,
                "val_si_sdri": math.nan,
            }
            last = progress.step == config.run.max_steps
            if data.val is not None and (progress.step % config.run.val_every == 0 or last):
                score = validate(
                    model,
                    queries,
                    data.val,
                    config.data.val_items,
                    config.run.batch_size,
                    device,
                    rank,
                    world,
                )
                scheduler.step(score)
                row["val_si_sdri"] = score
                if score > progress.best:
                    progress.best = score
                    if rank == 0:
                        _write_model(run_dir / "best", model, heads, config, progress.step)
            if log is not None:
                log.write(progress.step, row)
            bar.update(1)
            bar.set_postfix(loss=f"{row['loss']:.3f}")
            stop[0] = _any_rank(stop[0], world)
            if progress.step % config.run.checkpoint_every == 0 or last or stop[0]:
                _checkpoint(
                    run_dir, objective, optimizer, scheduler, generator, progress, rank, world
                )
    bar.close()
    if rank == 0:
        _write_model(run_dir / "model", model, heads, config, progress.step)
    if world > 1:
        dist.barrier()
    return run_dir
