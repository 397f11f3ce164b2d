"""``bertology similarity``: calls :func:`bertology.analyses.similarity.task.similarity_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.similarity.names import METRICS, POOLS
from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``similarity`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Layer x layer representation similarity (linear/RBF/minibatch CKA, "
                                               "SVCCA, PWCCA, Procrustes) of one model, of two models on the same "
                                               "sentences, or of two activation stores: a table, the saved result, "
                                               "a heatmap and, for two models, the same-layer curve.")
    options.add_model(parser, what="model, or activation store directory")
    parser.add_argument("--model-b", default=None,
                        help="second model or store directory (default: the first one against itself)")
    options.add_input(parser, "TXT (one sentence a line), TSV/CSV with header, or JSONL (not with stores)",
                      required=False)
    options.add_out(parser)
    options.add_text_columns(parser)
    parser.add_argument("--metric", default="linear_cka", choices=METRICS, help="similarity measure "
                                                                                "(default linear_cka)")
    options.add_layers(parser)
    parser.add_argument("--pool", default="all_words", choices=POOLS,
                        help="features: every word (all_words, default) or one pooled row per sentence")
    parser.add_argument("--minibatch", type=options.positive_int, default=1024,
                        help="rows per minibatch of minibatch_cka (default 1024)")
    options.add_seed(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.similarity.task import similarity_task

    result = similarity_task(args.model, args.model_b, args.input, args.out, metric=args.metric, layers=args.layers,
                             pool=args.pool, text_column=args.text_column, format=args.format,
                             batch_size=args.batch_size, minibatch=args.minibatch, seed=args.seed, device=args.device,
                             progress=args.progress)
    print(f"wrote {result.metric} of {len(result.layers_a)} x {len(result.layers_b)} layers "
          f"({result.meta.get('n_rows')} rows) to {args.out}")
