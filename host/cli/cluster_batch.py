"""`clapsep batch --ray [ADDRESS]`: the batch's renders on long-lived Ray actors.

Everything but the renders stays `host.cli.batch`'s: the driver finds the inputs, decides
what to skip (the records beside finished stems), encodes the query once into the
`RenderRequest`, writes the records and the summary, and prints the progress. This module
only replaces `Engine.render_many`: it hands each input to an actor and passes each
`RenderOutcome` back to the batch's `on_done` as it comes.

- Actors (Ray Core, not Ray Data: a batch is a few thousand files, each a side effect on a
  shared file system that must be reported one by one, retried alone when its worker dies
  and stopped cleanly on a signal; a task queue over a fixed pool of actors does exactly
  that) each load the model package once, by path: the package, the inputs and the outputs
  lie on storage every node mounts at the same path. Each actor checks that the package it
  loaded has the driver's digest and resolved precision, so every stem matches the recipe
  in its record.
- One actor per GPU (`num_gpus=1`, Ray sets `CUDA_VISIBLE_DEVICES`) where the cluster has
  GPUs and `--device` is not `cpu`; otherwise one CPU actor per `--actor-cpus` CPUs, its
  sessions on that many threads. `--max-actors` caps either; `--jobs` is the local batch's.
  Inside an actor `--device` and `--precision` mean what they mean to `clapsep render`.
- An actor renders one input at a time. If its process dies mid-file, the file goes back
  to the front of the queue for the next free actor (at most `MAX_ATTEMPTS` renders in
  all), a fresh actor replaces the dead one, and the dead one's temp files are swept: the
  stems appear only by rename, so nothing half-written ever has a final name. A killed
  driver takes its actors with it; the next run skips what has records (resume).
- SIGINT/SIGTERM (the batch's `cancel`): no new file starts, the running ones stop at their
  next block (the actor's `cancel` runs beside its render) and come back `cancelled`.
"""

import argparse
import collections
import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clapsep.errors import UserError
from clapsep.host.cli.options import engine_loader
from clapsep.host.cli.render import sweep_outputs
from clapsep.host.engine import Engine, RenderInput, RenderOutcome, RenderRequest
from clapsep.host.runtime.sessions import usable_cores
from clapsep.host.windowing import Cancel, Cancelled

MAX_ATTEMPTS = 3  # renders of one file whose actor keeps dying, before it is reported failed
PASSED_ENV = ("CLAPSEP_DATA_DIR", "CLAPSEP_MODEL_DIR")  # the driver's folders, for the actors
POLL_SECONDS = 0.25


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    c = p.add_argument_group("cluster (the [cluster] extra)")
    c.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="render on Ray actors: a local Ray instance sized to this machine, or the "
        "cluster at ADDRESS (ray://HOST:PORT, HOST:PORT or auto); inputs, outputs and the "
        "model package must be at the same paths on every node",
    )
    c.add_argument(
        "--actor-cpus",
        type=int,
        default=1,
        metavar="N",
        help="with --ray: CPUs each actor reserves (its session threads on a CPU actor)",
    )
    c.add_argument(
        "--max-actors", type=int, default=None, metavar="N", help="with --ray: at most N actors"
    )


def driver_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options the driver's own engine is built with: the driver only encodes the query
    and stamps the records, so it stays on the CPU and leaves the GPUs to the actors."""
    return argparse.Namespace(**{**vars(args), "device": "cpu"})


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(
            "--ray needs the [cluster] extra: pip install 'clapsep-studio[cluster]'"
        ) from None
    return ray


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class RenderActor:
    """One actor's engine, loaded once; it renders one input at a time with the request.

    Never raises from its constructor: a package that will not load is reported by `hello`
    (as one line, like every `UserError`).
    """

    def __init__(
        self, package: str, device: str, precision: str, cpus: int, cache: bool, request: Any
    ) -> None:
        import threading

        self.request: RenderRequest = request
        self.cancelled = threading.Event()
        self.engine: Engine | None = None
        self.problem: str | None = None
        try:
            jobs = max(1, usable_cores() // max(1, cpus))  # sessions on about `cpus` threads
            self.engine = engine_loader(
                package, device, cache=cache, jobs=jobs, precision=precision
            )()
        except Exception as exc:  # reported by hello() as the batch's one-line error
            self.problem = _first_line(exc)

    def hello(self) -> dict[str, Any]:
        import socket

        described = {"pid": os.getpid(), "host": socket.gethostname(), "problem": self.problem}
        if self.engine is not None:
            described.update(
                digest=self.engine.package.digest,
                precision=self.engine.separator.precision,
                provider=self.engine.provider,
            )
        return described

    def render(self, index: int, item: RenderInput) -> RenderOutcome:
        assert self.engine is not None
        (outcome,) = self.engine.render_many(
            self.request, [item], cancel=self.cancelled.is_set, keep_going=(Exception,)
        )
        return replace(outcome, index=index, error=_portable(outcome.error))

    def cancel(self) -> None:
        self.cancelled.set()


def _portable(error: Exception | None) -> Exception | None:
    """The error as the driver can unpickle it (a library's exception may not travel)."""
    if error is None:
        return None
    from ray import cloudpickle

    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


@dataclass
class _Actor:
    handle: Any
    number: int
    described: dict[str, Any] | None = None
    busy: int | None = None  # the input index it renders


class _Pool:
    """The actors, their start-up and replacement, and the one render each has in flight."""

    def __init__(
        self, ray: Any, args: argparse.Namespace, engine: Engine, request: RenderRequest, n: int
    ) -> None:
        self.ray, self.args, self.engine, self.quiet = ray, args, engine, args.json
        cpus = max(1, args.actor_cpus)
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0)) if args.device != "cpu" else 0
        if gpus:
            count, options = gpus, {"num_gpus": 1, "num_cpus": cpus}
        else:
            count, options = int(resources.get("CPU", 0) // cpus), {"num_cpus": cpus}
        if count < 1:
            raise UserError(
                f"the Ray cluster has {resources.get('CPU', 0):g} CPUs and no GPU: "
                f"too few for an actor of --actor-cpus {cpus}"
            )
        self.size = min(count, n, args.max_actors or count)
        self.kind = "GPU" if gpus else f"{cpus} CPU"
        self.remote = ray.remote(RenderActor).options(max_concurrency=2, **options)
        self.constructor = (
            str(engine.package.path),
            args.device,
            args.precision,
            cpus,
            not args.no_cache,
            ray.put(request),
        )
        self.starting: dict[Any, _Actor] = {}
        self.ready: list[_Actor] = []
        self.running: dict[Any, _Actor] = {}
        self.started = 0
        self.spare = self.size * (MAX_ATTEMPTS - 1)  # replacements for actors that die
        for _ in range(self.size):
            self._start()

    def _say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def _start(self) -> None:
        self.started += 1
        actor = _Actor(self.remote.remote(*self.constructor), self.started)
        self.starting[actor.handle.hello.remote()] = actor

    def replace_dead(self, actor: _Actor) -> None:
        if self.spare > 0:
            self.spare -= 1
            self._start()

    def alive(self) -> bool:
        return bool(self.starting or self.ready or self.running)

    def greet(self, ref: Any) -> None:
        """An actor answered `hello` (or died starting): it joins the idle ones or is gone."""
        actor = self.starting.pop(ref)
        try:
            described = self.ray.get(ref)
        except self.ray.exceptions.RayActorError as exc:
            self._say(f"actor {actor.number} died while starting: {_first_line(exc)}")
            self.replace_dead(actor)
            return
        if described["problem"]:
            raise UserError(f"render actor on {described['host']}: {described['problem']}")
        mine = (self.engine.package.digest, self.engine.separator.precision)
        theirs = (described["digest"], described["precision"])
        if theirs != mine:
            raise UserError(
                f"the render actor on {described['host']} loaded package {theirs[0][:12]} at "
                f"precision {theirs[1]}, the driver {mine[0][:12]} at {mine[1]}: put the "
                "same package at the same path on every node, or name --precision fp32/bf16"
            )
        actor.described = described
        self.ready.append(actor)
        self._say(
            f"actor {actor.number} ready: pid {described['pid']} on {described['host']} "
            f"({self.kind}, {described['provider']})"
        )

    def submit(self, index: int, item: RenderInput) -> None:
        actor = self.ready.pop(0)
        actor.busy = index
        self.running[actor.handle.render.remote(index, item)] = actor

    def cancel_running(self) -> None:
        for actor in self.running.values():
            actor.handle.cancel.remote()

    def shutdown(self) -> None:
        for actor in [*self.starting.values(), *self.ready, *self.running.values()]:
            with contextlib.suppress(Exception):
                self.ray.kill(actor.handle)

    def describe(self) -> list[dict[str, Any]]:
        return [a.described for a in self.ready if a.described is not None]


def _connect(ray: Any, address: str) -> None:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    common: dict[str, Any] = {
        "runtime_env": {"env_vars": env} if env else None,
        "log_to_driver": False,
        "logging_level": "warning",
    }
    try:
        if address:
            ray.init(address=address, **common)
        else:  # a fresh instance of this process's own, sized to the cores it may use
            ray.init(address="local", num_cpus=usable_cores(), include_dashboard=False, **common)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or "a local instance"
        raise UserError(f"cannot start or reach Ray ({where}): {_first_line(exc)}") from None


def render_on_ray(
    args: argparse.Namespace,
    engine: Engine,
    request: RenderRequest,
    inputs: Sequence[RenderInput],
    cancel: Cancel,
    on_done: Callable[[RenderOutcome], None],
) -> dict[str, Any] | None:
    """Render `inputs` on Ray actors as `Engine.render_many(keep_going=(Exception,))` would
    on threads: each outcome to `on_done` as it comes; a description of the cluster run."""
    if args.actor_cpus < 1 or (args.max_actors is not None and args.max_actors < 1):
        raise UserError("--actor-cpus and --max-actors must be at least 1")
    if not inputs:
        return None
    ray = _ray()
    _connect(ray, args.ray)
    pool: _Pool | None = None
    try:
        pool = _Pool(ray, args, engine, request, len(inputs))
        retried, died_in = _drive(ray, pool, inputs, cancel, on_done)
        described = {
            "address": args.ray or "local",
            "actors": pool.describe(),
            "actors_started": pool.started,
            "retried": retried,
        }
    finally:
        if pool is not None:
            pool.shutdown()
        ray.shutdown()
    for folder, since in died_in.items():  # the temp files the dead actors held
        sweep_outputs([folder], since)
    return described


def _drive(
    ray: Any,
    pool: _Pool,
    inputs: Sequence[RenderInput],
    cancel: Cancel,
    on_done: Callable[[RenderOutcome], None],
) -> tuple[int, dict[Path, float]]:
    """The queue: hand out inputs to idle actors, collect outcomes, requeue a dead actor's."""
    pending = collections.deque(range(len(inputs)))
    attempts = [0] * len(inputs)
    died_in: dict[Path, float] = {}
    retried, stopping = 0, False
    while pending or pool.running:
        if cancel() and not stopping:
            stopping = True
            pool.cancel_running()
        if stopping:
            while pending:
                index = pending.popleft()
                on_done(RenderOutcome(index, inputs[index], error=Cancelled("render cancelled")))
        while pending and pool.ready:
            index = pending.popleft()
            attempts[index] += 1
            pool.submit(index, inputs[index])
        if not pool.alive():
            error = RuntimeError("no render actor is left (they kept dying)")
            while pending:
                index = pending.popleft()
                on_done(RenderOutcome(index, inputs[index], error=error))
            break
        waiting = [*pool.running, *pool.starting]
        done, _ = ray.wait(waiting, num_returns=1, timeout=POLL_SECONDS)
        for ref in done:
            if ref in pool.starting:
                pool.greet(ref)
                continue
            actor = pool.running.pop(ref)
            index, actor.busy = actor.busy, None
            try:
                outcome = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                item = inputs[index]
                died_in.setdefault(item.out_dir, time.time())
                pool.replace_dead(actor)
                number, pid = actor.number, (actor.described or {}).get("pid")
                if attempts[index] < MAX_ATTEMPTS and not stopping:
                    retried += 1
                    pending.appendleft(index)
                    pool._say(
                        f"actor {number} (pid {pid}) died rendering {item.source}; "
                        f"retrying it (render {attempts[index] + 1} of at most {MAX_ATTEMPTS})"
                    )
                    continue
                why = f"its render actor died {attempts[index]} time(s): {_first_line(exc)}"
                error = Cancelled("render cancelled") if stopping else RuntimeError(why)
                outcome = RenderOutcome(index, item, error=error)
            else:
                pool.ready.append(actor)
            on_done(outcome)
    return retried, died_in
