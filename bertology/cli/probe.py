"""``bertology probe``: the CLI face of :func:`bertology.analyses.probes.task.probe_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.probes.task import probe_task
from bertology.core.data.loaders import DATASETS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``probe`` subcommand."""
    parser = subparsers.add_parser("probe", help="layer-wise linear probes with baselines and controls",
                                   description="Fit a linear probe on every layer (k-fold CV or the official split) "
                                               "and compare it with the majority class, the control task and "
                                               "optionally a random encoder and MDL.")
    parser.add_argument("--model", default="minilm", help="model name, local path or 'minilm' (default)")
    parser.add_argument("--task", required=True, choices=DATASETS)
    parser.add_argument("--data", default=None, help="dataset root (coarsewsd20) or file (sst2, table); "
                                                     "default the shipped sample")
    parser.add_argument("--word", default=None, help="CoarseWSD-20 word (default: all words under --data)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--text-column", default="sentence")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--word-column", default=None, help="column with the target word's whitespace index")
    parser.add_argument("--layers", default="all", help="'all', '6', '0,3,6' or '2-4' (0 = embeddings)")
    parser.add_argument("--pool", default="auto", help="auto, cls, mean, word_mean, word_first...")
    parser.add_argument("--cv", type=int, default=5, help="folds; 0 = the dataset's official train/test split")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, e.g. 0,1,2")
    parser.add_argument("--no-controls", dest="controls", action="store_false", help="skip the control task")
    parser.add_argument("--mdl", action="store_true", help="add MDL online codelength and compression")
    parser.add_argument("--random-encoder", action="store_true", help="also probe a re-initialised model")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    result = probe_task(args.model, args.task, args.out, data=args.data, word=args.word, text_column=args.text_column,
                        label_column=args.label_column, word_column=args.word_column, layers=args.layers,
                        pool=args.pool, cv=args.cv or None, seeds=tuple(int(s) for s in args.seeds.split(",")),
                        controls=args.controls, mdl=args.mdl, random_encoder=args.random_encoder,
                        progress=args.progress)
    best = result.best_layer()
    frame = result.to_frame("trained")
    accuracy = frame[(frame["metric"] == "accuracy") & (frame["layer"] == best)].iloc[0]
    print(f"best layer {best}: accuracy {accuracy['mean']:.3f} (majority {accuracy['baseline']:.3f}); "
          f"wrote {args.out}")
