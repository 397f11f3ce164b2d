"""``bertology figures``: calls :func:`bertology.experiments.figures.render_run_figures`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``figures`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Regenerate every figure (PDF + PNG) of a stored run from its result "
                                               "files; no model is loaded.")
    parser.add_argument("run", help="run directory, e.g. runs/quickstart")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.experiments.figures import render_run_figures

    for name, files in render_run_figures(args.run).items():
        for path in files:
            print(f"{name:<12} {path}")
