"""``bertology attribute``: calls :func:`bertology.analyses.attribution.task.attribute_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``attribute`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Attribute every sentence of --input with each method, score ERASER "
                                               "faithfulness, and write attributions (resumable), tables, HTML "
                                               "examples and figures into --out.")
    options.add_classifier(parser)
    options.add_input(parser, "TXT (one sentence a line), TSV, CSV or JSONL")
    options.add_explanation_settings(parser, "ig,lime", "sentences")
    parser.add_argument("--baseline", default="pad", choices=("pad", "mask", "unk"), help="IG baseline token")
    options.add_out(parser, "output directory (re-runs resume)")
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.attribution.task import attribute_task

    scores = attribute_task(args.model, args.input, args.out, methods=args.method, probe=args.probe,
                            probe_data=args.probe_data, layer=args.layer, target=args.target, n_steps=args.n_steps,
                            baseline=args.baseline, num_samples=args.num_samples, seed=args.seed,
                            removal=args.removal, text_column=args.text_column, limit=args.limit,
                            batch_size=args.batch_size, device=args.device, trust_pickle=args.trust_pickle,
                            progress=args.progress)
    print(scores.summary().to_string(index=False))
    print(f"results in {args.out}")
