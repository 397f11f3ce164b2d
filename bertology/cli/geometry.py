"""``bertology geometry``: calls :func:`bertology.analyses.geometry.task.geometry_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``geometry`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="For one CoarseWSD-20 word: PCA/UMAP of its vectors by sense per "
                                               "layer, its similarity across contexts, and Ethayarajh's (2019) "
                                               "contextuality measures.")
    options.add_model(parser)
    options.add_input(parser, "CoarseWSD-20 root (default the shipped sample)", required=False)
    parser.add_argument("--word", default="apple", help="CoarseWSD-20 word (default apple)")
    options.add_out(parser)
    options.add_layers(parser)
    parser.add_argument("--method", default="pca", choices=["pca", "umap"], help="2-D projection")
    parser.add_argument("--no-ethayarajh", dest="ethayarajh", action="store_false",
                        help="skip Ethayarajh's measures")
    parser.add_argument("--n-pairs", type=options.positive_int, default=1000,
                        help="random word pairs for the anisotropy baseline")
    options.add_seed(parser)
    options.add_batch_size(parser)
    options.add_device(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.analyses.geometry.task import geometry_task

    results = geometry_task(args.model, args.out, input=args.input, word=args.word, layers=args.layers,
                            method=args.method, ethayarajh=args.ethayarajh, n_pairs=args.n_pairs, seed=args.seed,
                            batch_size=args.batch_size, device=args.device, progress=args.progress)
    print(f"wrote {', '.join(results)} to {args.out}")
