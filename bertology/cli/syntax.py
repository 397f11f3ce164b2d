"""``bertology syntax``: calls :func:`bertology.analyses.syntax.task.syntax_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.syntax.names import STRUCTURAL_KINDS, SYNTAX_ANALYSES
from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``syntax`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Syntax from Universal Dependencies CoNLL-U files: Hewitt & Manning "
                                               "(2019) structural probes (UUAS, DSpr., root accuracy, NSpr. by layer "
                                               "with baselines), Clark et al. (2019) dependency heads in attention, "
                                               "Tenney et al. (2019) edge probing with a scalar mix. Per-word tag "
                                               "probes: bertology probe --dataset upos --input FILE.conllu.")
    options.add_model(parser)
    parser.add_argument("--train", required=True, help="CoNLL-U file to train on (e.g. en_ewt-ud-train.conllu)")
    parser.add_argument("--test", default=None, help="CoNLL-U file to score on (default: part of --train)")
    options.add_out(parser)
    parser.add_argument("--analyses", type=options.choice_list(SYNTAX_ANALYSES), default=list(SYNTAX_ANALYSES),
                        help=f"comma-separated: {','.join(SYNTAX_ANALYSES)} (default all)")
    parser.add_argument("--kinds", type=options.choice_list(STRUCTURAL_KINDS), default=list(STRUCTURAL_KINDS),
                        help=f"structural probes: {','.join(STRUCTURAL_KINDS)} (default both)")
    options.add_layers(parser)
    parser.add_argument("--rank", type=options.positive_int, default=None,
                        help="structural probe rank (default the hidden size)")
    parser.add_argument("--pool", default="word_mean", choices=("word_mean", "word_first"),
                        help="word vector from its pieces (default word_mean)")
    parser.add_argument("--limit", type=options.positive_int, default=None,
                        help="read at most this many sentences of each file")
    options.add_seed(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.syntax.task import syntax_task

    results = syntax_task(args.model, args.train, args.out, test=args.test, analyses=args.analyses, kinds=args.kinds,
                          layers=args.layers, rank=args.rank, pool=args.pool, limit=args.limit,
                          batch_size=args.batch_size, seed=args.seed, device=args.device, progress=args.progress)
    print(f"wrote {', '.join(results)} to {args.out}")
