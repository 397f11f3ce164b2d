"""Ranks under ``torchrun`` / ``accelerate launch``: deterministic input shards and a final barrier.

bertology does not start processes itself; the launcher does, and sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``. Each rank takes every ``world_size``-th batch of the
work, so that a sharded run computes exactly the batches a single process would.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)

BARRIER_TIMEOUT = timedelta(hours=24)
_SOLO: ContextVar[RankInfo | None] = ContextVar("bertology_single_process", default=None)


@dataclass(frozen=True)
class RankInfo:
    """This process's place in a launch.

    Attributes
    ----------
    rank
        Global rank (0 when not launched by torchrun/accelerate).
    world_size
        Number of processes.
    local_rank
        Rank on this machine (selects the GPU with ``device="auto"``).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_distributed(self) -> bool:
        """Whether more than one process takes part."""
        return self.world_size > 1


def rank_info() -> RankInfo:
    """Read the launcher's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``).

    Returns
    -------
    RankInfo
        ``RankInfo(0, 1, 0)`` outside a launcher and inside :func:`single_process`.

    Examples
    --------
    >>> rank_info().world_size >= 1
    True
    """
    override = _SOLO.get()
    if override is not None:
        return override
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    return RankInfo(rank=rank, world_size=world, local_rank=local_rank())


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK``, else ``RANK``, else 0), which picks its GPU.

    Unlike :func:`rank_info` it ignores :func:`single_process`: a process keeps its GPU
    while it works alone.

    Examples
    --------
    >>> local_rank() >= 0
    True
    """
    return int(os.environ.get("LOCAL_RANK", os.environ.get("RANK", 0)))


def barrier(rank: RankInfo | None = None) -> None:
    """Wait for every rank when a process group can be formed; a no-op for one process.

    Uses the launcher's rendezvous (``MASTER_ADDR``/``MASTER_PORT``) with ``gloo`` on CPU
    and ``nccl`` on GPU. Ranks may wait a long time here while rank 0 runs a step alone
    (a probe, a cloze suite), so the wait is allowed :data:`BARRIER_TIMEOUT`.

    Parameters
    ----------
    rank
        The caller's place in the launch; ``None`` reads it with :func:`rank_info`. A
        single-process ``RankInfo`` never waits.

    Examples
    --------
    >>> barrier()
    """
    info = rank_info() if rank is None else rank
    if not info.is_distributed or "MASTER_ADDR" not in os.environ:
        return
    nccl = torch.cuda.is_available()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if nccl else "gloo", rank=info.rank, world_size=info.world_size,
                                timeout=BARRIER_TIMEOUT)
    logger.info("rank %d waiting for %d ranks", info.rank, info.world_size)
    dist.barrier(device_ids=[info.local_rank] if nccl else None)


@contextmanager
def single_process() -> Iterator[None]:
    """Inside the block this process works alone, whatever the launcher started.

    :func:`rank_info` gives ``RankInfo(0, 1, 0)`` and :func:`barrier` returns at once, so
    work that rank 0 does by itself (a probe that extracts its own features) neither
    shards its inputs nor waits for ranks that are not taking part.

    Examples
    --------
    >>> import os
    >>> os.environ["WORLD_SIZE"], os.environ["RANK"] = "2", "1"
    >>> with single_process():
    ...     rank_info()
    RankInfo(rank=0, world_size=1, local_rank=0)
    >>> rank_info().rank
    1
    >>> del os.environ["WORLD_SIZE"], os.environ["RANK"]
    """
    token = _SOLO.set(RankInfo())
    try:
        yield
    finally:
        _SOLO.reset(token)
