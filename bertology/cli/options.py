"""Options every command shares, so that one concept has one flag: --model, --input, --out, --device,
--batch-size, --seed, --layers, --pool."""

from __future__ import annotations

import argparse

from bertology.core.data.names import DATASETS

DEFAULT_MODEL = "minilm"
DEFAULT_BATCH_SIZE = 32


def seed_list(text: str) -> int | tuple[int, ...]:
    """An argparse type: ``"0"`` → 0, ``"0,1,2"`` → (0, 1, 2).

    Examples
    --------
    >>> seed_list("3"), seed_list("0,1,2")
    (3, (0, 1, 2))
    """
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed: give an integer, or several as 0,1,2") from None
    return seeds[0] if len(seeds) == 1 else seeds


def positive_int(text: str) -> int:
    """An argparse type for counts that must be at least 1.

    Examples
    --------
    >>> positive_int("8")
    8
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def folds(text: str) -> int:
    """An argparse type for cross-validation folds: 0 (the dataset's official split) or at least 2.

    Examples
    --------
    >>> folds("5"), folds("0")
    (5, 0)
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value == 1 or value < 0:
        raise argparse.ArgumentTypeError(f"cv must be >= 2 folds (or 0 for the dataset's official split), got {value}")
    return value


def add_model(parser: argparse.ArgumentParser, default: str = DEFAULT_MODEL, what: str = "model") -> None:
    """``--model``: a name, a hub id or a local directory."""
    parser.add_argument("--model", default=default, help=f"{what}: name, hub id or local directory "
                                                         f"(default {default})")


def add_classifier(parser: argparse.ArgumentParser) -> None:
    """``--model`` and how a classifier is made of it: ``--probe``, ``--trust-pickle``, ``--train-probe``,
    ``--layer``."""
    add_model(parser, what="fine-tuned classifier, or an encoder with --probe/--train-probe ('minilm' trains a probe "
                           "on the shipped SST-2 sample)")
    parser.add_argument("--probe", default=None,
                        help="fitted linear probe on the encoder, saved with LinearProbe.save (.npz)")
    parser.add_argument("--trust-pickle", action="store_true",
                        help="also read a --probe pickle/joblib file (e.g. a scikit-learn LogisticRegression); "
                             "unpickling runs any code the file holds, so only for files you trust")
    parser.add_argument("--train-probe", dest="probe_data", default=None, metavar="TSV",
                        help="fit a CLS probe on this SST-2-style TSV (sentence<TAB>label, header)")
    parser.add_argument("--layer", type=int, default=-1, help="hidden state the probe reads (default last)")


def add_explanation_settings(parser: argparse.ArgumentParser, default_methods: str, what: str) -> None:
    """What ``attribute`` and ``explanations`` share: ``--text-column``, ``--limit``, ``--method`` (names of the
    attribution registry and their aliases), ``--target``, ``--n-steps``, ``--num-samples``, ``--seed`` and
    ``--removal``; ``what`` names the input's items (``"sentences"``, ``"texts"``)."""
    from bertology.analyses.attribution.names import METHOD_CHOICES

    parser.add_argument("--text-column", default=None, help="column with the sentence (default sentence/text)")
    parser.add_argument("--limit", type=positive_int, default=None, help=f"explain the first N {what}")
    parser.add_argument("--method", default=default_methods, type=choice_list(METHOD_CHOICES),
                        help=f"comma-separated: {', '.join(METHOD_CHOICES)} (default {default_methods})")
    parser.add_argument("--target", default=None, help="label to explain (default: each text's prediction)")
    parser.add_argument("--n-steps", type=positive_int, default=50, help="integrated-gradients steps")
    parser.add_argument("--num-samples", type=positive_int, default=1000,
                        help="LIME's and KernelSHAP's perturbed texts per text")
    add_seed(parser)
    parser.add_argument("--removal", default="remove", choices=("remove", "mask"), help="faithfulness removal")


def add_input(parser: argparse.ArgumentParser, help_text: str, required: bool = True) -> None:
    """``--input``: the file the command reads."""
    parser.add_argument("--input", required=required, default=None, help=help_text)


def add_out(parser: argparse.ArgumentParser, help_text: str = "output directory", default: str | None = None) -> None:
    """``--out``: where the command writes."""
    parser.add_argument("--out", required=default is None, default=default, help=help_text)


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device``: cpu, cuda, cuda:1, or auto (the local rank's GPU under torchrun/accelerate)."""
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, or auto (the local rank's GPU under "
                                                       "torchrun/accelerate); default: GPU if available")


def add_batch_size(parser: argparse.ArgumentParser) -> None:
    """``--batch-size``: sentences per forward pass."""
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
                        help=f"sentences per forward pass (default {DEFAULT_BATCH_SIZE})")


def add_seed(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """``--seed``: one seed, or with ``several`` a comma-separated list for repeated runs."""
    if several:
        parser.add_argument("--seed", type=seed_list, default=0, help="seed, or several for repeated runs: 0,1,2")
    else:
        parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")


def add_layers(parser: argparse.ArgumentParser) -> None:
    """``--layers``: which hidden states."""
    parser.add_argument("--layers", default="all", help="'all', '6', '0,3,6' or '2-4' (0 = embeddings)")


def add_text_columns(parser: argparse.ArgumentParser) -> None:
    """``--text-column`` and ``--format`` of a sentence file."""
    parser.add_argument("--text-column", default=None, help="column with the sentence (default sentence/text)")
    parser.add_argument("--format", default="auto", help="input format: auto, tsv, csv, jsonl, txt")


def choice_list(allowed: tuple[str, ...]):
    """An argparse type for a comma-separated list of names out of ``allowed``.

    Examples
    --------
    >>> choice_list(("structural", "heads"))("heads,structural")
    ['heads', 'structural']
    """
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"{text!r}: give a comma-separated list of {', '.join(allowed)}")
        return names

    return parse


def add_dataset(parser: argparse.ArgumentParser, required: bool = True, default: str | None = None) -> None:
    """``--dataset`` and where its data are: ``--input``, ``--word`` and the columns of a table."""
    parser.add_argument("--dataset", required=required, default=default, choices=DATASETS,
                        help="which kind of labelled data" + (f" (default {default})" if default else ""))
    add_input(parser, "dataset root (coarsewsd20), file (sst2, table) or CoNLL-U file (upos, xpos, deprel); "
                      "default the shipped sample", required=False)
    parser.add_argument("--word", default=None, help="CoarseWSD-20 word (default: all words under --input)")
    parser.add_argument("--text-column", default="sentence")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--word-column", default=None, help="column with the target word's whitespace index")

