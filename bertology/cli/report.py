"""``bertology report``: calls :func:`bertology.experiments.report.write_report`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Write a self-contained HTML report (figures, tables, manifest).")
    parser.add_argument("run", help="run directory, e.g. runs/quickstart")
    parser.add_argument("--out", default=None, help="HTML file to write (default RUN/report.html)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.experiments.report import write_report

    print(write_report(args.run, args.out))
