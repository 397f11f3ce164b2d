"""``bertology run``: calls :func:`bertology.experiments.runner.run_experiment`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Run every step of a TOML experiment config into its run directory; "
                                               "finished steps are reused and manifest.json records the run.")
    parser.add_argument("config", help="TOML config, e.g. experiments/quickstart.toml")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (dotted keys: model=..., data.root=..., steps.probe.cv=3)")
    parser.add_argument("--out", default=None, help="run directory (default: the config's out)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every step (default: the config's seed)")
    options.add_device(parser)
    parser.add_argument("--force", action="store_true", help="redo every step even when stored results match")
    parser.set_defaults(handler=_run)


def shortcut_overrides(args: argparse.Namespace) -> list[str]:
    """``--out``, ``--seed`` and ``--device`` as ``--set`` overrides, applied after the explicit ones.

    Examples
    --------
    >>> shortcut_overrides(argparse.Namespace(set=["seed=1"], out="runs/x", seed=None, device="cpu"))
    ['seed=1', "out='runs/x'", "device='cpu'"]
    """
    extra = [f"{key}={value!r}" for key, value in (("out", args.out), ("seed", args.seed), ("device", args.device))
             if value is not None]
    return [*args.set, *extra]


def _run(args: argparse.Namespace) -> None:
    from bertology.core.distributed import rank_info
    from bertology.experiments.runner import run_experiment

    run = run_experiment(args.config, overrides=shortcut_overrides(args), force=args.force, progress=args.progress)
    if rank_info().rank != 0:
        return
    for name, result in run.results.items():
        entry = run.manifest["steps"][name]
        line = f"{name:<12} {result.status:<8} {entry.get('elapsed_s', 0):8.1f}s"
        print(f"{line}  {result.reason}" if result.reason else line)
    print(f"results in {run.directory} (bertology figures {run.directory}; bertology report {run.directory})")
