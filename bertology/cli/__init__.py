"""The ``bertology`` command: parses arguments and calls the documented Python API."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bertology import __version__
from bertology.core.errors import BertologyError

COMMAND_MODULES = (
    "bertology.cli.extract",
    "bertology.cli.attention",
    "bertology.cli.cloze",
    "bertology.cli.run",
    "bertology.cli.probe",
    "bertology.cli.attribute",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand.

    Examples
    --------
    >>> build_parser().parse_args(["--version"])  # doctest: +SKIP
    """
    parser = argparse.ArgumentParser(prog="bertology", description="Look inside BERT-family encoders.")
    parser.add_argument("--version", action="version", version=f"bertology {__version__}")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; bertology's own errors print as one clear line and exit with status 2.

    Examples
    --------
    >>> main(["--help"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        args.handler(args)
    except BertologyError as error:
        print(f"bertology {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
