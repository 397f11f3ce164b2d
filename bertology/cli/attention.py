"""``bertology attention`` and ``bertology head-view``: the CLI faces of the attention API."""

from __future__ import annotations

import argparse
from pathlib import Path

from bertology.analyses.attention.head_view import head_view
from bertology.analyses.attention.stats import AttentionStats, attention_stats
from bertology.core.data import column, find_text_column, read_table
from bertology.core.models import load_model
from bertology.core.viz import save_figure


def attention_stats_file(model: str, input_path: str, out: str, text_column: str | None = None,
                         fmt: str = "auto", batch_size: int = 32, truncate: bool = False, device: str | None = None,
                         progress: bool = True) -> AttentionStats:
    """Head statistics for the sentences of a file, written to a directory (what ``bertology attention`` runs).

    Writes ``head_stats.csv`` (tidy table), ``attention_stats.json`` (reload with
    :meth:`AttentionStats.load`) and ``figures/head_stats.{pdf,png}``.

    Parameters
    ----------
    model
        Model name, path or ``"minilm"``.
    input_path
        TXT (one sentence per line), TSV/CSV with header, or JSONL.
    out
        Output directory.
    text_column
        Column with the sentence; default ``sentence`` if present, else ``text``.
    fmt
        Input format (see :func:`bertology.core.data.read_table`).
    batch_size, truncate, progress
        As in :func:`bertology.attention_stats`.
    device
        Device for the model.

    Returns
    -------
    AttentionStats

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "s.txt").write_text("One, two.\\nThree.\\n")
    >>> attention_stats_file("minilm", str(d / "s.txt"), str(d / "out"), progress=False).n_sentences
    2
    """
    rows = read_table(input_path, fmt)
    sentences = column(rows, find_text_column(rows, text_column), input_path)
    stats = attention_stats(load_model(model, device=device), sentences, batch_size=batch_size, truncate=truncate,
                            progress=progress)
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    stats.to_frame().to_csv(directory / "head_stats.csv", index=False)
    stats.save(directory / "attention_stats.json")
    save_figure(stats.plot(), directory / "figures" / "head_stats")
    return stats


def head_view_file(model: str, text: str, out: str, text_b: str | None = None, device: str | None = None) -> Path:
    """Write the interactive head view of a sentence or pair to one HTML file (what ``bertology head-view`` runs).

    Parameters
    ----------
    model
        Model name, path or ``"minilm"``.
    text
        The sentence, or the first sentence of a pair.
    out
        HTML file to write.
    text_b
        Second sentence of a pair.
    device
        Device for the model.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> head_view_file("minilm", "The bank is closed.", str(pathlib.Path(tempfile.mkdtemp()) / "v.html")).exists()
    True
    """
    return head_view(load_model(model, device=device), text if text_b is None else (text, text_b)).save_html(out)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``attention`` and ``head-view`` subcommands."""
    parser = subparsers.add_parser("attention", help="per-head attention statistics over a corpus",
                                   description="Clark et al. (2019) head statistics over a file of sentences: "
                                               "a CSV table, a JSON file and layer x head heatmaps.")
    parser.add_argument("--model", default="minilm", help="model name, local path or 'minilm' (default)")
    parser.add_argument("--input", required=True, help="TXT (one sentence a line), TSV/CSV with header, or JSONL")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--text-column", default=None, help="column with the sentence (default sentence/text)")
    parser.add_argument("--format", dest="fmt", default="auto", help="auto, tsv, csv, jsonl, txt")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--truncate", action="store_true", help="cut over-long sentences instead of failing")
    parser.add_argument("--device", default=None, help="cpu, cuda, auto")
    parser.set_defaults(handler=_run_stats)

    view = subparsers.add_parser("head-view", help="self-contained interactive HTML view of every head",
                                 description="Write one self-contained HTML file showing the attention of every "
                                             "layer and head for a sentence or a sentence pair.")
    view.add_argument("--model", default="minilm", help="model name, local path or 'minilm' (default)")
    view.add_argument("--text", required=True, help="the sentence (first sentence of a pair)")
    view.add_argument("--text-b", default=None, help="second sentence of a pair")
    view.add_argument("--out", required=True, help="HTML file to write")
    view.add_argument("--device", default=None, help="cpu, cuda, auto")
    view.set_defaults(handler=_run_view)


def _run_stats(args: argparse.Namespace) -> None:
    stats = attention_stats_file(args.model, args.input, args.out, text_column=args.text_column, fmt=args.fmt,
                                 batch_size=args.batch_size, truncate=args.truncate, device=args.device,
                                 progress=args.progress)
    print(f"wrote head statistics of {stats.n_sentences} sentences ({stats.n_tokens} tokens) to {args.out}")


def _run_view(args: argparse.Namespace) -> None:
    path = head_view_file(args.model, args.text, args.out, text_b=args.text_b, device=args.device)
    print(f"wrote {path}")
