"""``extract_task``: the activations of a file of sentences into a store (``bertology extract`` and the ``extract`` step)."""

from __future__ import annotations

from pathlib import Path

from bertology.core.data.tables import column, find_text_column, int_column, read_table
from bertology.core.extraction.extractor import Layers, check_extract_arguments, extract
from bertology.core.extraction.store import ActivationStore
from bertology.core.models import LoadedModel, load_model
from bertology.core.paths import check_output


def extract_task(model: str | LoadedModel, input: str | Path, out: str | Path, *, layers: Layers = "all",
                 pool: str = "cls", text_column: str | None = None, word_column: str | None = None,
                 format: str = "auto", batch_size: int = 32, dtype: str = "float32", truncate: bool = False,
                 skip_bad: bool = False, overwrite: bool = False, device: str | None = None,
                 model_dtype: str | None = None, progress: bool = True) -> ActivationStore:
    """Extract activations for the sentences of a file into the store ``out``.

    Parameters
    ----------
    model
        Model name, path, ``"minilm"``, or a loaded model.
    input
        TSV/CSV with header, JSONL, or TXT (one sentence per line).
    out
        Store directory (resumable: a re-run does only the batches not finished).
    layers, pool, batch_size, dtype, truncate, overwrite, progress
        As in :func:`bertology.extract`.
    text_column
        Column with the sentence; default ``sentence`` if present, else ``text``.
    word_column
        Column with the 0-based whitespace word index of the target word (e.g. ``word_pos``).
    format
        Input format (see :func:`bertology.core.data.tables.read_table`).
    skip_bad
        Skip items whose target word was cut by truncation, with a count.
    device
        Device for a model given by name (``"auto"``: the local rank's GPU under torchrun/accelerate).
    model_dtype
        Precision of the weights of a model given by name (``"float16"``, ``"bfloat16"``; GPU).

    Returns
    -------
    ActivationStore

    Raises
    ------
    InputError
        For a bad argument, input row or output path; all are checked before a model given by
        name is loaded.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "s.txt").write_text("One.\\nTwo.\\n")
    >>> extract_task("minilm", d / "s.txt", d / "out", layers="6", progress=False)[6].shape
    (2, 384)
    """
    rows = read_table(input, format)
    texts = column(rows, find_text_column(rows, text_column), input)
    words = None if word_column is None else int_column(rows, word_column, input)
    check_extract_arguments(texts, layers, pool, words, dtype=dtype, batch_size=batch_size)
    check_output(out)
    loaded = model if isinstance(model, LoadedModel) else load_model(model, device=device, dtype=model_dtype)
    return extract(loaded, texts, layers=layers, pool=pool, words=words, batch_size=batch_size, out=out, dtype=dtype,
                   truncate=truncate, on_error="skip" if skip_bad else "raise", overwrite=overwrite,
                   progress=progress)
