"""``bertology run``, ``bertology figures`` and ``bertology report``: the CLI face of the experiment runner."""

from __future__ import annotations

import argparse

from bertology.core.distributed import rank_info
from bertology.experiments.figures import render_run_figures
from bertology.experiments.report import write_report
from bertology.experiments.runner import run_experiment


def _run(args: argparse.Namespace) -> None:
    run = run_experiment(args.config, overrides=args.set, force=args.force, progress=args.progress)
    if rank_info().rank != 0:
        return
    for name, result in run.results.items():
        entry = run.manifest["steps"][name]
        line = f"{name:<12} {result.status:<8} {entry.get('elapsed_s', 0):8.1f}s"
        print(f"{line}  {result.reason}" if result.reason else line)
    print(f"results in {run.directory} (bertology figures {run.directory}; bertology report {run.directory})")


def _figures(args: argparse.Namespace) -> None:
    written = render_run_figures(args.run_dir)
    for name, files in written.items():
        for path in files:
            print(f"{name:<12} {path}")


def _report(args: argparse.Namespace) -> None:
    print(write_report(args.run_dir, args.output))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run``, ``figures`` and ``report`` subcommands."""
    run = subparsers.add_parser("run", help="run a TOML experiment config (finished steps are reused)",
                                description="Run every step of a TOML experiment config into its run directory; "
                                            "finished steps are reused and manifest.json records the run.")
    run.add_argument("config", help="TOML config, e.g. experiments/quickstart.toml")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a config value (dotted keys: model=..., data.root=..., steps.probe.cv=3)")
    run.add_argument("--force", action="store_true", help="redo every step even when stored results match")
    run.set_defaults(handler=_run)
    figures = subparsers.add_parser("figures", help="re-render every figure of a run from stored results",
                                    description="Regenerate every figure (PDF + PNG) of a stored run from its "
                                                "result files; no model is loaded.")
    figures.add_argument("run_dir", help="run directory, e.g. runs/quickstart")
    figures.set_defaults(handler=_figures)
    report = subparsers.add_parser("report", help="write one self-contained HTML page for a run",
                                   description="Write a self-contained HTML report (figures, tables, manifest).")
    report.add_argument("run_dir", help="run directory, e.g. runs/quickstart")
    report.add_argument("-o", "--output", default=None, help="output file (default RUN_DIR/report.html)")
    report.set_defaults(handler=_report)
