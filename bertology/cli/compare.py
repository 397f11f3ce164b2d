"""``bertology compare``: calls :func:`bertology.experiments.compare.compare`."""

from __future__ import annotations

import argparse
from typing import Any

from bertology.cli import options
from bertology.core.data.names import DATASETS
from bertology.core.errors import InputError

ANALYSES = ("probe", "attention", "geometry", "cloze", "similarity")

OPTIONS = {
    "probe": ("dataset", "input", "word", "text_column", "label_column", "word_column", "layers", "pool", "cv",
              "seed", "controls", "mdl", "random_encoder", "batch_size"),
    "attention": ("input", "text_column", "format", "average", "truncate", "batch_size"),
    "geometry": ("input", "word", "layers", "batch_size"),
    "cloze": ("suites", "n_boot", "seed", "max_tokens"),
    "similarity": ("input", "text_column", "format", "metric", "layers", "pool", "batch_size", "seed"),
}
"""The analysis options each ``--analysis`` takes (argparse destinations)."""

FLAGS = {"dataset": "--dataset", "input": "--input", "word": "--word", "text_column": "--text-column",
         "label_column": "--label-column", "word_column": "--word-column", "layers": "--layers", "pool": "--pool",
         "cv": "--cv", "seed": "--seed", "controls": "--no-controls", "mdl": "--mdl",
         "random_encoder": "--random-encoder", "batch_size": "--batch-size", "format": "--format",
         "average": "--average", "truncate": "--truncate", "suites": "--suite", "n_boot": "--n-boot",
         "max_tokens": "--max-tokens", "metric": "--metric"}


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``compare`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Run one analysis on several models (--model once per model) and "
                                               "write one table with a model column and one figure with a curve "
                                               "per model.")
    parser.add_argument("--model", dest="models", action="append", required=True,
                        help="a model to compare: name, hub id or local directory; give it once per model")
    parser.add_argument("--analysis", required=True, choices=ANALYSES, help="the analysis to run on every model")
    options.add_out(parser)
    options.add_device(parser)
    group = parser.add_argument_group("analysis options (each applies to the analyses named)")
    group.add_argument("--dataset", default=None, choices=DATASETS, help="probe: which kind of labelled data")
    group.add_argument("--input", default=None,
                       help="probe: dataset root or file; attention, similarity: file of sentences (required); "
                            "geometry: CoarseWSD-20 root (default the shipped samples)")
    group.add_argument("--word", default=None, help="probe, geometry: CoarseWSD-20 word (geometry default apple)")
    group.add_argument("--text-column", default=None, help="probe, attention, similarity: column with the sentence")
    group.add_argument("--label-column", default=None, help="probe: column with the label")
    group.add_argument("--word-column", default=None, help="probe: column with the target word's index")
    group.add_argument("--format", default=None,
                       help="attention, similarity: input format: auto, tsv, csv, jsonl, txt")
    group.add_argument("--layers", default=None,
                       help="probe, geometry, similarity: 'all', '6', '0,3,6' (0 = embeddings)")
    group.add_argument("--pool", default=None,
                       help="probe: auto, cls, mean, word_mean...; similarity: all_words, cls...")
    group.add_argument("--cv", type=options.folds, default=None, help="probe: folds; 0 = the official split")
    group.add_argument("--seed", type=options.seed_list, default=None,
                       help="probe: seed(s) 0,1,2; cloze, similarity: one seed")
    group.add_argument("--no-controls", dest="controls", action="store_false", default=None,
                       help="probe: skip the control task")
    group.add_argument("--mdl", action="store_true", default=None, help="probe: add MDL codelength")
    group.add_argument("--random-encoder", action="store_true", default=None,
                       help="probe: also probe a re-initialised model")
    group.add_argument("--average", default=None, help="attention: sentence (default) or token")
    group.add_argument("--truncate", action="store_true", default=None, help="attention: cut over-long sentences")
    group.add_argument("--batch-size", type=options.positive_int, default=None,
                       help="probe, attention, geometry, similarity: sentences per forward pass")
    group.add_argument("--suite", dest="suites", action="append", default=None,
                       help="cloze: a suite name or JSONL file, once per suite (default agreement)")
    group.add_argument("--metric", default=None,
                       help="similarity: linear_cka (default), rbf_cka, minibatch_cka, svcca, pwcca, procrustes")
    group.add_argument("--n-boot", type=options.positive_int, default=None, help="cloze: bootstrap resamples")
    group.add_argument("--max-tokens", type=options.positive_int, default=None,
                       help="cloze: token budget of one forward pass")
    parser.set_defaults(handler=_run)


def analysis_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options given for ``--analysis``; one given for another analysis is an error.

    Raises
    ------
    InputError
        Naming the option and the analyses it belongs to.

    Examples
    --------
    >>> ns = argparse.Namespace(**{key: None for keys in OPTIONS.values() for key in keys})
    >>> analysis_options(argparse.Namespace(**{**vars(ns), "analysis": "cloze", "n_boot": 50}))
    {'n_boot': 50}
    """
    given = {key for keys in OPTIONS.values() for key in keys if getattr(args, key, None) is not None}
    for key in sorted(given - set(OPTIONS[args.analysis])):
        owners = [name for name, keys in OPTIONS.items() if key in keys]
        raise InputError(f"{FLAGS[key]} is an option of --analysis {' or '.join(owners)}, not {args.analysis}: "
                         f"drop it.")
    return {key: getattr(args, key) for key in OPTIONS[args.analysis] if key in given}


def _texts(given: dict[str, Any]) -> list[str]:
    from bertology.core.data import column, find_text_column, read_table

    if not given.get("input"):
        raise InputError("--analysis attention and similarity read their sentences from a file: give --input FILE.")
    rows = read_table(given["input"], given.get("format", "auto"))
    return column(rows, find_text_column(rows, given.get("text_column")), given["input"])


def _options(analysis: str, given: dict[str, Any]) -> dict[str, Any]:
    from bertology.core.data.loaders import load_dataset

    if analysis == "probe":
        if not given.get("dataset"):
            raise InputError("--analysis probe needs --dataset (coarsewsd20, sst2 or table).")
        data = load_dataset(given.pop("dataset"), given.pop("input", None), given.pop("word", None),
                            given.pop("text_column", "sentence"), given.pop("label_column", "label"),
                            given.pop("word_column", None))
        if "cv" in given:
            given["cv"] = given["cv"] or None
        return {"data": data, **given}
    if analysis == "attention":
        texts = _texts(given)
        return {"texts": texts, **{key: given[key] for key in ("average", "truncate", "batch_size") if key in given}}
    if analysis == "geometry":
        data = load_dataset("coarsewsd20", given.pop("input", None), given.pop("word", "apple"))
        return {"data": data, **given}
    if isinstance(given.get("seed"), tuple):
        raise InputError(f"--seed {','.join(map(str, given['seed']))}: {analysis} takes one seed.")
    if analysis == "similarity":
        texts = _texts(given)
        return {"texts": texts, **{key: given[key] for key in ("metric", "layers", "pool", "batch_size", "seed")
                                   if key in given}}
    return given


def _run(args: argparse.Namespace) -> None:
    from bertology.experiments.compare import compare

    given = analysis_options(args)
    comparison = compare(args.models, args.analysis, out=args.out, device=args.device, progress=args.progress,
                         **_options(args.analysis, given))
    print(f"compared {len(comparison.models)} models on {args.analysis}: {len(comparison.to_frame())} rows; "
          f"wrote {args.out}")
