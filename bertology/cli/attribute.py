"""``bertology attribute``: integrated gradients and LIME over a sentence file, with faithfulness scores."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``attribute`` subcommand."""
    parser = subparsers.add_parser(
        "attribute", help="explain a classifier's predictions (integrated gradients, LIME) with faithfulness scores",
        description="Attribute every sentence of --input with each method, score ERASER faithfulness, and write "
                    "attributions.jsonl (resumable), CSV tables, HTML examples and figures into --out.")
    parser.add_argument("--model", default="minilm", help="fine-tuned classifier (path or hub id), or an encoder "
                        "with --probe/--train-probe; 'minilm' trains a probe on the shipped SST-2 sample")
    parser.add_argument("--probe", default=None, help="joblib file of a fitted linear probe on the encoder")
    parser.add_argument("--train-probe", "--probe-data", dest="probe_data", default=None, metavar="TSV",
                        help="fit a CLS probe on this SST-2-style TSV (sentence<TAB>label, header)")
    parser.add_argument("--layer", type=int, default=-1, help="hidden state the probe reads (default last)")
    parser.add_argument("--input", required=True, help="TXT (one sentence a line), TSV, CSV or JSONL")
    parser.add_argument("--method", default="ig,lime", help="comma-separated: ig, lime (default both)")
    parser.add_argument("--target", default=None, help="label to explain (default: each sentence's prediction)")
    parser.add_argument("--n-steps", type=int, default=50, help="integrated-gradients steps")
    parser.add_argument("--baseline", default="pad", choices=("pad", "mask", "unk"), help="IG baseline token")
    parser.add_argument("--num-samples", type=int, default=1000, help="LIME perturbations")
    parser.add_argument("--seed", type=int, default=0, help="LIME random state")
    parser.add_argument("--removal", default="remove", choices=("remove", "mask"), help="faithfulness removal")
    parser.add_argument("--out", default="runs/attr", help="output directory (re-runs resume)")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> None:
    from bertology.analyses.attribution.task import explain_file

    options = {"integrated_gradients": {"n_steps": args.n_steps, "baseline": args.baseline},
               "lime": {"num_samples": args.num_samples, "seed": args.seed}}
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    scores = explain_file(args.model, args.input, args.out, methods=methods, probe=args.probe,
                          probe_data=args.probe_data, layer=args.layer, options=options, target=args.target,
                          removal=args.removal, progress=args.progress)
    print(scores.summary().to_string(index=False))
    print(f"results in {args.out}")
