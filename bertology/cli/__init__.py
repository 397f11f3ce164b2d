"""The ``bertology`` command: a static command table; each command's module is imported only when it runs.

``bertology --help`` imports no analysis and no torch; ``bertology COMMAND ...`` imports that
command's module, whose handler imports the analysis it calls.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from bertology import __version__
from bertology.core.errors import BertologyError

COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("bertology.cli.extract", "extract pooled per-layer activations into a store"),
    "probe": ("bertology.cli.probe", "layer-wise linear probes with baselines and controls"),
    "geometry": ("bertology.cli.geometry", "projections, similarity across contexts, Ethayarajh's measures"),
    "attention": ("bertology.cli.attention", "per-head attention statistics over a corpus"),
    "head-view": ("bertology.cli.head_view", "self-contained interactive HTML view of every head"),
    "attribute": ("bertology.cli.attribute", "explain a classifier's predictions with faithfulness scores"),
    "explanations": ("bertology.cli.explanations", "every explanation method on one benchmark: faithfulness, "
                                                   "plausibility, agreement, time"),
    "cloze": ("bertology.cli.cloze", "cloze suites and published evaluation sets with a masked LM"),
    "syntax": ("bertology.cli.syntax", "structural probes, dependency heads in attention, edge probing (CoNLL-U)"),
    "heads": ("bertology.cli.heads", "head importance (Michel et al. 2019), pruning curve, leave-one-out ablation"),
    "patch": ("bertology.cli.patch", "activation patching of minimal pairs: total, indirect and direct effects"),
    "erase": ("bertology.cli.erase", "concept erasure (LEACE, INLP) and amnesic probing with a random control"),
    "similarity": ("bertology.cli.similarity", "layer x layer CKA, SVCCA, PWCCA or Procrustes within or across models"),
    "compare": ("bertology.cli.compare", "one analysis on several models: one table, one curve per model"),
    "run": ("bertology.cli.run", "run a TOML experiment config (finished steps are reused)"),
    "figures": ("bertology.cli.figures", "re-render every figure of a run from stored results"),
    "report": ("bertology.cli.report", "write one self-contained HTML page for a run"),
}


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like bertology's own: ``PROG: error: MESSAGE``.

    Examples
    --------
    >>> Parser(prog="bertology probe").parse_args(["--nope"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    SystemExit: 2
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s options are built (every command is listed).

    Examples
    --------
    >>> build_parser("cloze").parse_args(["cloze", "--out", "o", "--suite", "color"]).suites
    ['color']
    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:3]
    ['attention', 'attribute', 'cloze']
    """
    parser = Parser(prog="bertology", description="Look inside BERT-family encoders.")
    parser.add_argument("--version", action="version", version=f"bertology {__version__}")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="hide progress bars (or set BERTOLOGY_PROGRESS=0)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).register(subparsers, name, help_text)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; bertology's own errors print as one clear line and exit with status 2.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    bertology 0.1.0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(argv)
    parser = build_parser(command if command in COMMANDS else None)
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
    except KeyboardInterrupt:
        print(f"bertology {args.command}: interrupted; finished work is kept, run the same command again to "
              f"resume.", file=sys.stderr)
        return 130
    return 0
