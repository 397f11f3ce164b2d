"""``bertology explanations``: calls :func:`bertology.analyses.attribution.task.explanation_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.attribution.names import DEFAULT_METHODS
from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``explanations`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Explain every text of --input (or every document of an ERASER "
                                               "dataset, --rationales) with each method and write one table: ERASER "
                                               "faithfulness, plausibility against the human rationales, rank "
                                               "agreement between methods and time, with the figure, into --out.")
    options.add_classifier(parser)
    options.add_input(parser, "TXT (one sentence a line), TSV, CSV or JSONL (or give --rationales)", required=False)
    parser.add_argument("--rationales", default=None, metavar="DIR",
                        help="ERASER dataset directory (docs/ and <split>.jsonl): its documents are the texts, and "
                             "the explanations are scored against its human rationales")
    parser.add_argument("--split", default="test", help="ERASER split to read (default test)")
    options.add_explanation_settings(parser, ",".join(DEFAULT_METHODS), "texts")
    parser.add_argument("--n-boot", type=options.positive_int, default=1000, help="bootstrap resamples of the CIs")
    options.add_out(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.attribution.task import explanation_task

    bench = explanation_task(args.model, args.out, args.input, rationales=args.rationales, split=args.split,
                             methods=args.method, probe=args.probe, probe_data=args.probe_data, layer=args.layer,
                             target=args.target, n_steps=args.n_steps, num_samples=args.num_samples, seed=args.seed,
                             removal=args.removal, text_column=args.text_column, limit=args.limit,
                             n_boot=args.n_boot, batch_size=args.batch_size, device=args.device,
                             trust_pickle=args.trust_pickle, progress=args.progress)
    print(bench.to_frame().to_string(index=False))
    print(f"results in {args.out}")
