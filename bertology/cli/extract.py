"""``bertology extract``: calls :func:`bertology.core.extraction.task.extract_task`."""

from __future__ import annotations

import argparse

from bertology.cli import options


def register(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> None:
    """Add the ``extract`` command."""
    parser = subparsers.add_parser(name, help=help_text,
                                   description="Extract pooled per-layer activations for a file of sentences into an "
                                               "on-disk ActivationStore (resumable).")
    options.add_model(parser)
    options.add_input(parser, "TSV/CSV with header, JSONL, or TXT (one sentence a line)")
    options.add_out(parser, "store directory")
    options.add_layers(parser)
    parser.add_argument("--pool", default="cls", help="cls, mean, first, last, word (= word_mean), word_first")
    options.add_text_columns(parser)
    parser.add_argument("--word-column", default=None, help="column with the whitespace word index (e.g. word_pos)")
    options.add_batch_size(parser)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16"], help="precision on disk")
    parser.add_argument("--truncate", action="store_true", help="cut over-long sentences instead of failing")
    parser.add_argument("--skip-bad", action="store_true", help="skip items whose target word was truncated away")
    parser.add_argument("--overwrite", action="store_true", help="replace a store made with another request")
    options.add_device(parser)
    parser.add_argument("--model-dtype", default=None, choices=["float32", "float16", "bfloat16"],
                        help="precision of the model's weights (float16/bfloat16 on GPU)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> None:
    from bertology.core.extraction.task import extract_task

    store = extract_task(args.model, args.input, args.out, layers=args.layers, pool=args.pool,
                         text_column=args.text_column, word_column=args.word_column, format=args.format,
                         batch_size=args.batch_size, dtype=args.dtype, truncate=args.truncate,
                         skip_bad=args.skip_bad, overwrite=args.overwrite, device=args.device,
                         model_dtype=args.model_dtype, progress=args.progress)
    print(f"wrote {store!r}")
