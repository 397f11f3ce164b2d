"""Entry point for torchrun in tests: ``bertology`` CLI, logging each written batch, optionally crashing.

Environment: ``BATCH_LOG`` (directory for per-rank logs of written batch ids),
``CRASH_RANK`` and ``CRASH_AFTER`` (that rank dies hard after writing that many batches).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bertology.cli import main
from bertology.core.extraction import store

_original = store.StoreWriter.write_batch


def _logged(self, batch_id, rows, values):
    rank = int(os.environ["RANK"])
    log = Path(os.environ["BATCH_LOG"]) / f"rank{rank}.log"
    written = log.read_text().split() if log.exists() else []
    if str(rank) == os.environ.get("CRASH_RANK") and len(written) >= int(os.environ["CRASH_AFTER"]):
        os._exit(17)
    _original(self, batch_id, rows, values)
    with open(log, "a") as handle:
        handle.write(f"{batch_id}\n")


if __name__ == "__main__":
    store.StoreWriter.write_batch = _logged
    sys.exit(main(sys.argv[1:]))
