"""``bertology extract``: the CLI face of :func:`bertology.extract`."""

from __future__ import annotations

import argparse

from bertology.core.data import column, find_text_column, int_column, read_table
from bertology.core.extraction.extractor import extract
from bertology.core.models import load_model


def extract_file(model: str, input_path: str, out: str, layers: str = "all", pool: str = "cls",
                 text_column: str | None = None, word_column: str | None = None, fmt: str = "auto",
                 batch_size: int = 32, dtype: str = "float32", truncate: bool = False, skip_bad: bool = False,
                 overwrite: bool = False, device: str | None = None, model_dtype: str | None = None,
                 progress: bool = True):
    """Extract activations for the sentences of a file (what ``bertology extract`` runs).

    Parameters
    ----------
    model
        Model name, path or ``"minilm"``.
    input_path
        TSV/CSV with header, JSONL, or TXT (one sentence per line).
    out
        Store directory.
    text_column
        Column with the sentence; default ``sentence`` if present, else ``text``.
    word_column
        Column with the 0-based whitespace word index of the target word (e.g. ``word_pos``).
    layers, pool, batch_size, dtype, truncate, overwrite, progress
        As in :func:`bertology.extract`.
    fmt
        Input format (see :func:`bertology.core.data.read_table`).
    skip_bad
        Skip items whose target word was cut by truncation, with a count.
    device
        Device for the model (``"auto"``: the local rank's GPU under torchrun/accelerate).
    model_dtype
        Precision of the model's weights (``"float16"``, ``"bfloat16"``; GPU), default float32.

    Returns
    -------
    ActivationStore

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "s.txt").write_text("One.\\nTwo.\\n")
    >>> extract_file("minilm", str(d / "s.txt"), str(d / "out"), layers="6", progress=False)[6].shape
    (2, 384)
    """
    rows = read_table(input_path, fmt)
    texts = column(rows, find_text_column(rows, text_column), input_path)
    words = None if word_column is None else int_column(rows, word_column, input_path)
    return extract(load_model(model, device=device, dtype=model_dtype), texts, layers=layers, pool=pool, words=words,
                   batch_size=batch_size, store=out, dtype=dtype, truncate=truncate,
                   on_error="skip" if skip_bad else "raise", overwrite=overwrite, progress=progress)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extract`` subcommand."""
    parser = subparsers.add_parser("extract", help="extract pooled per-layer activations into a store",
                                   description="Extract pooled per-layer activations for a file of sentences "
                                               "into an on-disk ActivationStore (resumable).")
    parser.add_argument("--model", default="minilm", help="model name, local path or 'minilm' (default)")
    parser.add_argument("--input", required=True, help="TSV/CSV with header, JSONL, or TXT (one sentence a line)")
    parser.add_argument("--out", required=True, help="store directory")
    parser.add_argument("--layers", default="all", help="'all', '6', '0,3,6' or '2-4' (0 = embeddings)")
    parser.add_argument("--pool", default="cls", help="cls, mean, first, last, word (= word_mean), word_first")
    parser.add_argument("--text-column", default=None, help="column with the sentence (default sentence/text)")
    parser.add_argument("--word-column", default=None, help="column with the whitespace word index (e.g. word_pos)")
    parser.add_argument("--format", dest="fmt", default="auto", help="auto, tsv, csv, jsonl, txt")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16"])
    parser.add_argument("--truncate", action="store_true", help="cut over-long sentences instead of failing")
    parser.add_argument("--skip-bad", action="store_true", help="skip items whose target word was truncated away")
    parser.add_argument("--overwrite", action="store_true", help="replace a store made with another request")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, or auto (local rank's GPU)")
    parser.add_argument("--model-dtype", default=None, choices=["float32", "float16", "bfloat16"],
                        help="precision of the model's weights (float16/bfloat16 on GPU)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    store = extract_file(args.model, args.input, args.out, layers=args.layers, pool=args.pool,
                         text_column=args.text_column, word_column=args.word_column, fmt=args.fmt,
                         batch_size=args.batch_size, dtype=args.dtype, truncate=args.truncate,
                         skip_bad=args.skip_bad, overwrite=args.overwrite, device=args.device,
                         model_dtype=args.model_dtype, progress=args.progress)
    print(f"wrote {store!r}")
