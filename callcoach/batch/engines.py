"""Where calls are scored: in this process, in a pool of worker processes, or on Ray actors.

Every engine takes :class:`Task` records and yields an :class:`Outcome` as each
call finishes (in any order), with a bounded number of calls in flight, so
memory stays the same for 10 calls or 100,000. Every worker builds one
:class:`~callcoach.batch.worker.Scorer` (the models, loaded once, and the report renderer) and scores
one call at a time; the driver writes the outputs and the store.

A crash inside a model is caught in the worker and becomes that call's
failure. A worker process that dies (killed, out of memory, a crash in
native code) is replaced: the calls that were in flight are run again one at
a time to find the one that killed it, which is recorded as failed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from callcoach.batch.worker import Outcome, Scorer, ScorerFactory, StageFn, StartFn, Task
from callcoach.errors import UsageError
from callcoach.settings import Settings

WORKER_MEMORY_BYTES = int(1.5 * 2**30)  # a worker's peak with the default models, rounded up
DIED = "the worker process scoring this call died (killed, out of memory, or a crash in native code)"

class Engine(Protocol):
    def run(self, tasks: Iterable[Task], *, on_start: StartFn | None = None, on_stage: StageFn | None = None) -> Iterator[Outcome]: ...


# --------------------------------------------------------------- capacity


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def available_memory_bytes() -> int | None:
    """Memory free for new work: MemAvailable, capped by this cgroup's limit; None if unknown."""
    free: int | None = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_file).read_text().strip()
            if limit != "max" and int(limit) < 2**60:
                room = int(limit) - int(Path(usage_file).read_text().strip())
                free = room if free is None else min(free, room)
            break
        except (OSError, ValueError):
            continue
    return free


def default_workers() -> int:
    """As many workers as there are cores, and no more than memory holds (1.5 GB each)."""
    cores = available_cores()
    free = available_memory_bytes()
    by_memory = cores if free is None else max(1, free // WORKER_MEMORY_BYTES)
    return max(1, min(cores, by_memory))


def worker_settings(settings: Settings, workers: int) -> Settings:
    """Share the cores between workers: each gets cores/workers speech-recognition threads unless set."""
    if settings.cpu_threads:
        return settings
    return replace(settings, cpu_threads=max(1, available_cores() // max(workers, 1)))


# -------------------------------------------------------------- in process


class InProcessEngine:
    """``--workers 1``: one scorer in this process, with progress inside each call."""

    def __init__(self, settings: Settings, out_dir: Path, *, scorer_factory: ScorerFactory = Scorer) -> None:
        self.scorer = scorer_factory(settings, out_dir, preload=False)

    def run(self, tasks: Iterable[Task], *, on_start: StartFn | None = None, on_stage: StageFn | None = None) -> Iterator[Outcome]:
        for task in tasks:
            if on_start:
                on_start(task, False)
            stage = (lambda name, fraction, task=task: on_stage(task, name, fraction)) if on_stage else None
            yield self.scorer.score(task, stage)


# ------------------------------------------------------------ process pool

_worker: Scorer | None = None
_worker_error: str = ""


def _init_worker(factory: ScorerFactory, settings: Settings, out_dir: str) -> None:
    global _worker, _worker_error
    try:
        _worker = factory(settings, out_dir, preload=True)
    except Exception as exc:
        _worker_error = f"the worker could not start: {type(exc).__name__}: {exc}"


def _score_in_worker(task: Task) -> Outcome:
    if _worker is None:
        return Outcome(task.call_id, error=_worker_error or "the worker could not start")
    return _worker.score(task)


class PoolEngine:
    """``--workers N``: N worker processes ('spawn' start method), each loading the models once.

    At most ``2 * N`` calls are in flight. When a worker dies the pool is
    restarted; the calls that were in flight are run again one at a time, so
    only the call that killed a worker is recorded as failed (:data:`DIED`).
    """

    def __init__(self, settings: Settings, out_dir: Path, workers: int, *, scorer_factory: ScorerFactory = Scorer) -> None:
        self.settings = worker_settings(settings, workers)
        self.out_dir = out_dir
        self.workers = workers
        self.factory = scorer_factory
        self.window = 2 * workers
        self.restarts = 0

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.factory, self.settings, str(self.out_dir)),
        )

    def run(self, tasks: Iterable[Task], *, on_start: StartFn | None = None, on_stage: StageFn | None = None) -> Iterator[Outcome]:
        pending = iter(tasks)
        suspects: deque[Task] = deque()  # in flight when a worker died: run again alone
        inflight: dict[Future, Task] = {}
        pool = self._pool()
        exhausted = False
        try:
            while True:
                limit = 1 if suspects else self.window
                while len(inflight) < limit:
                    retry = bool(suspects)
                    task = suspects.popleft() if retry else (None if exhausted else next(pending, None))
                    if task is None:
                        exhausted = True
                        break
                    if on_start:
                        on_start(task, retry)
                    inflight[pool.submit(_score_in_worker, task)] = task
                if not inflight:
                    return
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                lost: list[Task] = []
                for future in done:
                    task = inflight.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        lost.append(task)
                    except Exception as exc:  # e.g. a result that cannot be sent back
                        yield Outcome(task.call_id, error=f"internal error: {type(exc).__name__}: {exc}")
                if lost:
                    lost += inflight.values()
                    inflight.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    self.restarts += 1
                    pool = self._pool()
                    if len(lost) == 1:
                        yield Outcome(lost[0].call_id, error=DIED)
                    else:
                        suspects.extend(lost)
        finally:
            pool.shutdown(wait=not inflight, cancel_futures=True)


# --------------------------------------------------------------------- ray


class _ScorerHost:
    """The body of a Ray actor: one Scorer, models loaded once."""

    def __init__(self, factory: ScorerFactory, settings: Settings, out_dir: str) -> None:
        _init_worker(factory, settings, out_dir)

    def score(self, task: Task) -> Outcome:
        return _score_in_worker(task)


def import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError("--engine ray needs Ray: pip install 'callcoach[ray]'") from None
    return ray


class RayEngine:
    """``--engine ray``: one task per call on Ray actors that each load the models once.

    Connects to ``address`` (or ``$RAY_ADDRESS``; a local Ray is started when
    neither is set) unless Ray is already initialised in this process. Every
    node must see the audio and the output folder at the same paths (shared
    storage): actors read the audio themselves; the driver writes the outputs.
    ``workers`` actors (default: the cluster's CPUs divided by the threads per
    actor), each reserving ``cpu_threads`` CPUs (default 1).
    """

    def __init__(self, settings: Settings, out_dir: Path, workers: int | None, *, address: str | None = None,
                 scorer_factory: ScorerFactory = Scorer) -> None:
        self.settings = settings if settings.cpu_threads else replace(settings, cpu_threads=1)
        self.out_dir = out_dir
        self.workers = workers
        self.address = address
        self.factory = scorer_factory

    def run(self, tasks: Iterable[Task], *, on_start: StartFn | None = None, on_stage: StageFn | None = None) -> Iterator[Outcome]:
        import logging

        ray = import_ray()
        started = False
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or os.environ.get("RAY_ADDRESS") or "a new local Ray"
                raise UsageError(f"--engine ray: cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
            started = True
        actors: list[Any] = []
        try:
            cpus = self.settings.cpu_threads
            n = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus)
            actor_class = ray.remote(num_cpus=cpus, max_restarts=-1, max_task_retries=0)(_ScorerHost)
            actors = [actor_class.remote(self.factory, self.settings, str(self.out_dir)) for _ in range(n)]
            idle = deque(actors)
            inflight: dict[Any, tuple[Any, Task]] = {}
            pending = iter(tasks)
            exhausted = False
            while True:
                while idle and not exhausted:
                    task = next(pending, None)
                    if task is None:
                        exhausted = True
                        break
                    if on_start:
                        on_start(task, False)
                    actor = idle.popleft()
                    inflight[actor.score.remote(task)] = (actor, task)
                if not inflight:
                    return
                ready, _ = ray.wait(list(inflight), num_returns=1)
                for ref in ready:
                    actor, task = inflight.pop(ref)
                    idle.append(actor)  # a dead actor is restarted by Ray (max_restarts=-1)
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayActorError:
                        yield Outcome(task.call_id, error=DIED)
                    except ray.exceptions.RayError as exc:
                        yield Outcome(task.call_id, error=f"internal error (ray): {str(exc).splitlines()[0]}")
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()


def make_engine(
    engine: str, settings: Settings, out_dir: Path, workers: int, *, ray_address: str | None = None,
    scorer_factory: ScorerFactory = Scorer, workers_given: bool = True,
) -> Engine:
    """The engine for ``--engine`` and ``--workers`` (1 = in this process)."""
    if engine == "ray":
        return RayEngine(settings, out_dir, workers if workers_given else None, address=ray_address, scorer_factory=scorer_factory)
    if workers == 1:
        return InProcessEngine(settings, out_dir, scorer_factory=scorer_factory)
    return PoolEngine(settings, out_dir, workers, scorer_factory=scorer_factory)


__all__ = [
    "DIED", "Engine", "InProcessEngine", "Outcome", "PoolEngine", "RayEngine", "Scorer", "Task",
    "available_cores", "available_memory_bytes", "default_workers", "make_engine", "worker_settings",
]
