"""``bertology attention``: calls :func:`bertology.analyses.attention.task.attention_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``attention`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Clark et al. (2019) head statistics over a file of sentences: a "
                                               "table, the saved result and layer x head heatmaps; optionally one "
                                               "example sentence's attention, rollout and HTML head view.")
    options.add_model(parser)
    options.add_input(parser, "TXT (one sentence a line), TSV/CSV with header, or JSONL")
    options.add_out(parser)
    options.add_text_columns(parser)
    parser.add_argument("--example-text", default=None, help="also show this sentence's attention and head view")
    parser.add_argument("--example-text-b", default=None, help="second sentence of the example pair")
    options.add_batch_size(parser)
    parser.add_argument("--truncate", action="store_true", help="cut over-long sentences instead of failing")
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.attention.task import attention_task

    stats = attention_task(args.model, args.input, args.out, text_column=args.text_column, format=args.format,
                           batch_size=args.batch_size, truncate=args.truncate, example_text=args.example_text,
                           example_text_b=args.example_text_b, device=args.device, progress=args.progress)
    print(f"wrote head statistics of {stats.n_sentences} sentences ({stats.n_tokens} tokens) to {args.out}")
