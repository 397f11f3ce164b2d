"""Ranks under ``torchrun`` / ``accelerate launch``: deterministic input shards and a final barrier.

bertology does not start processes itself; the launcher does, and sets ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK``. Each rank takes every ``world_size``-th batch of the
work, so that a sharded run computes exactly the batches a single process would.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)


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
        ``RankInfo(0, 1, 0)`` outside a launcher.

    Examples
    --------
    >>> rank_info().world_size >= 1
    True
    """
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    return RankInfo(rank=rank, world_size=world, local_rank=int(os.environ.get("LOCAL_RANK", rank)))


def barrier() -> None:
    """Wait for every rank when a process group can be formed; a no-op for one process.

    Uses the launcher's rendezvous (``MASTER_ADDR``/``MASTER_PORT``) with ``gloo`` on CPU
    and ``nccl`` on GPU.

    Examples
    --------
    >>> barrier()
    """
    info = rank_info()
    if not info.is_distributed or "MASTER_ADDR" not in os.environ:
        return
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    logger.info("rank %d waiting for %d ranks", info.rank, info.world_size)
    dist.barrier()
