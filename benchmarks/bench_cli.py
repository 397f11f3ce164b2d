"""CLI start-up and ``import bertology`` against the eager layout, measured in one run.

Baseline: the package as it was before the layered, lazy layout (git revision ``a6a60bb``),
unpacked into a temporary directory and put first on ``PYTHONPATH``; both run in this
interpreter with the same installed libraries. Each command runs in a fresh process,
interleaved with the baseline, ``REPEATS`` times; the best time of each is compared.

Run: ``python -m benchmarks.bench_cli`` (writes benchmarks/results/cli.json).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "cli.json"
REPOSITORY = Path(__file__).resolve().parents[1]
BASELINE_REVISION = "a6a60bb"
REPEATS = 3
COMMANDS = {
    "import bertology": None,
    "bertology --help": ["--help"],
    **{f"bertology {name} --help": [name, "--help"]
       for name in ("extract", "probe", "geometry", "attention", "head-view", "attribute", "cloze", "run",
                    "figures", "report")},
}
LAUNCHER = """
import sys
sys.meta_path[:] = [finder for finder in sys.meta_path if "editable" not in repr(finder).lower()]
sys.path.insert(0, {source!r})
import bertology
assert bertology.__file__.startswith({source!r})
if {argv!r} is not None:
    sys.argv = ["bertology", *{argv!r}]
    import runpy
    runpy.run_module("bertology", run_name="__main__")
"""
BASELINE_COMMANDS = {"geometry", "head-view", "figures", "report"}


def _unpack_baseline(target: Path) -> None:
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", BASELINE_REVISION, "bertology"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def _seconds(argv: list[str] | None, source: str) -> float:
    """Wall time of one fresh interpreter importing bertology from ``source`` (and running the CLI with ``argv``)."""
    code = LAUNCHER.format(source=source, argv=argv)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "BERTOLOGY_PROGRESS": "0"},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if "AssertionError" in done.stderr or "Traceback" in done.stderr:
        raise RuntimeError(f"{argv} from {source} failed:\n{done.stderr}")
    return seconds


def main() -> dict:
    with tempfile.TemporaryDirectory() as baseline_dir:
        _unpack_baseline(Path(baseline_dir))
        rows = {}
        for label, argv in COMMANDS.items():
            in_baseline = label.split()[1] not in BASELINE_COMMANDS if label.startswith("bertology ") else True
            new, old = [], []
            for _ in range(REPEATS):
                new.append(_seconds(argv, str(REPOSITORY)))
                if in_baseline:
                    old.append(_seconds(argv, baseline_dir))
            rows[label] = {"seconds": min(new), "baseline_seconds": min(old) if old else None,
                           "speedup": min(old) / min(new) if old else None}
            baseline = f"  baseline {min(old):.2f} s  ({min(old) / min(new):.1f}x)" if old else "  (new command)"
            print(f"{label:<34} {min(new):.2f} s{baseline}")
    result = {"baseline_revision": BASELINE_REVISION, "repeats": REPEATS, "commands": rows,
              "targets": {"help_max_seconds": 1.0, "import_max_seconds": 0.3}}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
