"""Options every command shares, so that one concept has one flag: --model, --input, --out, --device,
--batch-size, --seed, --layers, --pool."""

from __future__ import annotations

import argparse

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
