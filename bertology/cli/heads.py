"""``bertology heads``: calls :func:`bertology.analyses.heads.task.heads_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options
from bertology.core.data.names import DATASETS


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``heads`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Michel et al. (2019): importance of every attention head from "
                                               "gradients of head gates, the task metric as heads are masked "
                                               "least important first against random orders, and optionally "
                                               "leave-one-out head ablation.")
    options.add_model(parser, what="model with a classification head (--loss classifier) or an MLM head")
    parser.add_argument("--loss", default="classifier", choices=("classifier", "mlm", "cloze"),
                        help="classifier cross-entropy on the labels, the masked-LM loss, or a cloze suite's "
                             "good-vs-bad contrast (default classifier)")
    parser.add_argument("--suite", default="agreement",
                        help="choice suite name or JSONL file for --loss cloze (default agreement)")
    parser.add_argument("--dataset", default="sst2", choices=DATASETS, help="labelled data (default sst2)")
    options.add_input(parser, "the dataset's file (sst2, table); default the shipped SST-2 sample", required=False)
    options.add_out(parser)
    parser.add_argument("--text-column", default="sentence")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--max-sentences", type=options.positive_int, default=None, help="use the first N sentences")
    parser.add_argument("--per", default="example", choices=("example", "token"),
                        help="|dL/dgate| per example (the paper) or per token (the authors' code)")
    parser.add_argument("--normalize-global", action="store_true",
                        help="also min-max scale importance to [0, 1] (run_bertology.py)")
    parser.add_argument("--metric", default="accuracy", choices=("accuracy", "loss"), help="pruning-curve metric")
    parser.add_argument("--steps", type=options.positive_int, default=10, help="pruning shares (default 10: 10%% each)")
    parser.add_argument("--random-orders", type=int, default=5, help="random pruning orders for the band (default 5)")
    parser.add_argument("--leave-one-out", action="store_true", help="also mask each head alone")
    parser.add_argument("--mask-prob", type=float, default=0.15, help="masked share of tokens for --loss mlm")
    options.add_seed(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.heads.task import heads_task

    results = heads_task(args.model, args.out, loss=args.loss, suite=args.suite, dataset=args.dataset, input=args.input,
                         text_column=args.text_column, label_column=args.label_column,
                         max_sentences=args.max_sentences, per=args.per, normalize_global=args.normalize_global,
                         metric=args.metric, steps=args.steps, random_orders=args.random_orders,
                         leave_one_out=args.leave_one_out, batch_size=args.batch_size, mask_prob=args.mask_prob,
                         seed=args.seed, device=args.device, progress=args.progress)
    top = results["importance"].order()[-1]
    print(f"most important head: layer {top[0]} head {top[1]}; wrote {args.out}")
