"""``bertology patch``: calls :func:`bertology.analyses.patching.task.patch_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.patching.names import COMPONENTS, SUITES
from bertology.cli import options


def _positions(text: str) -> str | list[int]:
    """``"all"`` or comma-separated token positions."""
    if text == "all":
        return text
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give 'all' or token positions such as 0,3,-2") from None


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``patch`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Causal mediation by activation patching: for each minimal pair of a "
                                               "suite, patch every residual-stream position and layer (or every "
                                               "head) from the counterfactual into the base run, and report total, "
                                               "indirect and direct effects on the candidates' log-probabilities.")
    options.add_model(parser, default="bert-base-uncased", what="masked-LM checkpoint")
    parser.add_argument("--suite", default="agreement",
                        help=f"shipped suite ({', '.join(SUITES)}) or suite JSONL file (default agreement)")
    options.add_out(parser)
    parser.add_argument("--components", type=options.choice_list(COMPONENTS), default=["resid"],
                        help="resid (layer x position), heads (layer x head) or resid,heads (default resid)")
    parser.add_argument("--positions", type=_positions, default="all",
                        help="token positions patched in the residual stream: all (default) or e.g. 0,3,-2")
    parser.add_argument("--batch-size", type=options.positive_int, default=64,
                        help="patched copies per forward pass (default 64)")
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.patching.task import patch_task

    result = patch_task(args.model, args.out, suite=args.suite, components=args.components,
                        positions=args.positions, batch_size=args.batch_size, device=args.device,
                        progress=args.progress)
    print(f"{result.meta['n_pairs']} pairs ({result.meta['n_skipped']} left out); mean total effect "
          f"{result.pairs['total_effect'].mean():.3f}; wrote {args.out}")
