"""``bertology erase``: calls :func:`bertology.analyses.erasure.task.erase_task`."""

from __future__ import annotations

import argparse

from bertology.analyses.erasure.names import METHODS
from bertology.cli import options


def _layer_list(text: str) -> str | list[int]:
    """``"after"`` or a comma-separated list of hidden states."""
    if text == "after":
        return text
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give 'after' or hidden states such as 4,5,6") from None


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``erase`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Erase a labelled concept from one layer (LEACE or INLP), then "
                                               "probe the later layers with the eraser applied inside the forward "
                                               "pass (amnesic probing), against removing as many random directions.")
    options.add_model(parser)
    options.add_dataset(parser)
    options.add_out(parser)
    parser.add_argument("--layer", type=int, required=True, help="hidden state to erase from (0 = embeddings)")
    parser.add_argument("--method", default="leace", choices=METHODS)
    parser.add_argument("--pool", default="auto", help="auto, cls, mean, word_mean, word_first...")
    parser.add_argument("--iterations", dest="n_iterations", type=options.positive_int, default=50,
                        help="most INLP classifiers (default 50)")
    parser.add_argument("--controls", type=options.positive_int, default=3,
                        help="random-direction control draws (default 3)")
    parser.add_argument("--probe-layers", dest="layers", type=_layer_list, default="after",
                        help="hidden states probed with the eraser applied: 'after' (default) or e.g. 4,5,6")
    parser.add_argument("--no-amnesic", dest="amnesic", action="store_false", help="only fit the eraser")
    parser.add_argument("--mlm", action="store_true",
                        help="load the model's masked-LM head and also report masked-token accuracy and PLL")
    options.add_seed(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.erasure.task import erase_task

    erasure, amnesic = erase_task(
        args.model, args.dataset, args.out, layer=args.layer, input=args.input, word=args.word,
        text_column=args.text_column, label_column=args.label_column, word_column=args.word_column,
        method=args.method, pool=args.pool, seed=args.seed, n_iterations=args.n_iterations, controls=args.controls,
        amnesic=args.amnesic, layers=args.layers, mlm=args.mlm, batch_size=args.batch_size, device=args.device,
        progress=args.progress)
    accuracy = erasure.to_frame().groupby("condition")["accuracy"].mean()
    print(f"{erasure.method} at hidden state {erasure.layer}: {erasure.rank} directions; probe accuracy "
          f"{accuracy['original']:.3f} -> {accuracy['erased']:.3f} (random {accuracy['random']:.3f}); wrote {args.out}")
