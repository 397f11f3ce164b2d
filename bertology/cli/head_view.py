"""``bertology head-view``: calls :func:`bertology.analyses.attention.task.head_view_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``head-view`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Write one self-contained HTML file showing the attention of every "
                                               "layer and head for a sentence or a sentence pair.")
    options.add_model(parser)
    parser.add_argument("--text", required=True, help="the sentence (first sentence of a pair)")
    parser.add_argument("--text-b", default=None, help="second sentence of a pair")
    parser.add_argument("--view", default="head", choices=("head", "neuron"),
                        help="head: every layer and head (default); neuron: query x key breakdown of one head")
    options.add_out(parser, "HTML file to write")
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.attention.task import head_view_task

    head_view_task(args.model, args.text, args.out, text_b=args.text_b, view=args.view, device=args.device)
    print(f"wrote {args.out}")
