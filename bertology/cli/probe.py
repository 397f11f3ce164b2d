"""``bertology probe``: calls :func:`bertology.analyses.probes.task.probe_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``probe`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Fit a linear probe on every layer (k-fold CV or the official split) "
                                               "and compare it with the majority class, the control task and "
                                               "optionally a random encoder and MDL.")
    options.add_model(parser)
    options.add_dataset(parser)
    options.add_out(parser)
    options.add_layers(parser)
    parser.add_argument("--pool", default="auto", help="auto, cls, mean, word_mean, word_first...")
    parser.add_argument("--cv", type=options.folds, default=5,
                        help="folds (at least 2); 0 = the dataset's official train/test split")
    options.add_seed(parser, several=True)
    parser.add_argument("--no-controls", dest="controls", action="store_false", help="skip the control task")
    parser.add_argument("--mdl", action="store_true", help="add MDL online codelength and compression")
    parser.add_argument("--random-encoder", action="store_true", help="also probe a re-initialised model")
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.probes.task import probe_task

    result = probe_task(args.model, args.dataset, args.out, input=args.input, word=args.word,
                        text_column=args.text_column, label_column=args.label_column, word_column=args.word_column,
                        layers=args.layers, pool=args.pool, cv=args.cv or None, seed=args.seed,
                        controls=args.controls, mdl=args.mdl, random_encoder=args.random_encoder,
                        batch_size=args.batch_size, device=args.device, progress=args.progress)
    best = result.best_layer()
    frame = result.to_frame("trained")
    accuracy = frame[(frame["metric"] == "accuracy") & (frame["layer"] == best)].iloc[0]
    print(f"best layer {best}: accuracy {accuracy['mean']:.3f} (majority {accuracy['baseline']:.3f}); "
          f"wrote {args.out}")
