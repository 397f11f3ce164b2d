"""Probing datasets: CoarseWSD-20, SST-2 and generic label tables, as one ``ProbeDataset`` type."""

from __future__ import annotations

import io
import json
import logging
import shutil
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from bertology.core.data.conllu import load_conllu
from bertology.core.data.dataset import ProbeDataset
from bertology.core.data.names import DATASETS, WORD_TAGS
from bertology.core.data.tables import column, int_column, read_table, read_text
from bertology.core.data.word_tasks import word_task
from bertology.core.errors import InputError
from bertology.core.paths import SHIPPED_DIR

WORD_TAG_MIN_COUNT = 5
"""Fewest words of a tag for the tag to stay in a per-word tag dataset (5-fold cross-validation)."""

logger = logging.getLogger(__name__)

SHIPPED_COARSEWSD20 = SHIPPED_DIR / "coarsewsd20"
SHIPPED_SST2 = SHIPPED_DIR / "sst2_sample.tsv"
COARSEWSD20_WORDS = ("apple", "arm", "bank", "bass", "bow", "chair", "club", "crane", "deck", "digit", "hood", "java",
                     "mole", "pitcher", "pound", "seal", "spring", "square", "trunk", "yard")
"""The 20 ambiguous nouns of CoarseWSD-20 (Loureiro et al. 2021)."""


def _lines(path: Path) -> list[tuple[int, str]]:
    if not path.exists():
        raise InputError(f"{path} does not exist: point root= at a CoarseWSD-20 directory holding "
                         "<word>/{train,test}.data.txt, {train,test}.gold.txt and classes_map.txt.")
    with io.StringIO(read_text(path, "CoarseWSD-20 file"), newline=None) as handle:
        return [(number, line.rstrip("\n")) for number, line in enumerate(handle, start=1) if line.strip()]


def _read_wsd_split(directory: Path, split: str) -> tuple[list[str], list[int], list[int]]:
    data_path, gold_path = directory / f"{split}.data.txt", directory / f"{split}.gold.txt"
    texts, words = [], []
    for number, line in _lines(data_path):
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip().lstrip("-").isdigit():
            raise InputError(f"{data_path}:{number}: expected 'word_pos<TAB>sentence', got {line[:60]!r}; "
                             "fix or remove the line.")
        position, sentence = int(fields[0]), fields[1]
        if not 0 <= position < len(sentence.split()):
            raise InputError(f"{data_path}:{number}: word_pos {position} is outside the sentence's "
                             f"{len(sentence.split())} whitespace-separated words; word_pos counts words from 0.")
        texts.append(sentence)
        words.append(position)
    labels = []
    for number, line in _lines(gold_path):
        if not line.strip().isdigit():
            raise InputError(f"{gold_path}:{number}: expected one integer label id, got {line[:40]!r}.")
        labels.append(int(line))
    if len(labels) != len(texts):
        raise InputError(f"{gold_path} has {len(labels)} labels but {data_path} has {len(texts)} sentences: "
                         "the files must have one line per item, in the same order.")
    return texts, words, labels


def _read_classes(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(f"{path} does not exist: each CoarseWSD-20 word directory needs classes_map.txt.")
    text = read_text(path, "CoarseWSD-20 file")
    try:
        mapping = json.loads(text)
        return [mapping[str(i)] for i in range(len(mapping))]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(f"{path}:1: expected a JSON object {{\"0\": sense, \"1\": sense, ...}} ({error}).") from None


def download(url: str, cache_dir: str | Path | None = None) -> Path:
    """Download ``url`` once into ``cache_dir`` (default ``~/.cache/bertology``), unpacking zip files.

    Parameters
    ----------
    url
        File or ``.zip`` archive address.
    cache_dir
        Directory of the cache.

    Returns
    -------
    pathlib.Path
        The cached file, or the directory a zip was unpacked into.

    Examples
    --------
    >>> download("https://example.org/CoarseWSD-20.zip")  # doctest: +SKIP
    PosixPath('/home/me/.cache/bertology/CoarseWSD-20')
    """
    cache = Path(cache_dir).expanduser() if cache_dir else Path.home() / ".cache" / "bertology"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / url.rstrip("/").rsplit("/", 1)[-1]
    unpacked = target.with_suffix("") if target.suffix == ".zip" else target
    if unpacked.exists():
        return unpacked
    logger.info("Downloading %s to %s", url, target)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url) as response, open(partial, "wb") as handle:
            shutil.copyfileobj(response, handle)
    except OSError as error:
        raise InputError(f"Could not download {url} ({error}): check the address and your connection, or "
                         "download it yourself and pass root=/path.") from None
    partial.rename(target)
    if target.suffix == ".zip":
        with zipfile.ZipFile(target) as archive:
            archive.extractall(unpacked)
    return unpacked


def _coarsewsd_root(root: Path) -> Path:
    """The directory holding the word folders (a downloaded archive may nest it one level down)."""
    if any((root / word).is_dir() for word in COARSEWSD20_WORDS) or not root.is_dir():
        return root
    children = [child for child in root.iterdir() if child.is_dir()]
    return children[0] if len(children) == 1 else root


def load_coarsewsd20(word: str | None = None, root: str | Path | None = None, url: str | None = None,
                     cache_dir: str | Path | None = None) -> ProbeDataset:
    """Load CoarseWSD-20 (Loureiro et al. 2021) with its official train/test split.

    The layout is ``<root>/<word>/{train,test}.data.txt`` (``word_pos<TAB>sentence``,
    ``word_pos`` a 0-based index into the whitespace-split lowercased sentence),
    ``{train,test}.gold.txt`` (one label id per line) and ``classes_map.txt`` (JSON
    ``{"0": "sense", ...}``).

    Parameters
    ----------
    word
        One of the ambiguous words, or ``None`` for every word directory under ``root``
        (labels are then ``word:sense`` classes).
    root
        Dataset directory; default the small sample shipped with bertology (apple, bank, bat).
    url
        Download the dataset (zip) from here once into ``cache_dir`` instead of reading ``root``.
    cache_dir
        Download cache (default ``~/.cache/bertology``).

    Returns
    -------
    ProbeDataset
        With ``words`` and ``split`` set.

    Raises
    ------
    InputError
        Missing files, an unknown word, a malformed line (file and line named).

    Examples
    --------
    >>> d = load_coarsewsd20("apple")
    >>> d.label_names, d.texts[0].split()[d.words[0]]
    (['apple_inc', 'apple_fruit'], 'apple')
    """
    base = download(url, cache_dir) if url else Path(root).expanduser() if root else SHIPPED_COARSEWSD20
    if base.exists() and not base.is_dir():
        raise InputError(f"CoarseWSD-20 root {base} is a file: pass root= pointing at the dataset directory (the "
                         "folder of the word folders).")
    base = _coarsewsd_root(base)
    if word is None:
        words = sorted(p.name for p in base.iterdir() if (p / "classes_map.txt").is_file()) if base.is_dir() else []
        if not words:
            raise InputError(f"No CoarseWSD-20 word directories (with classes_map.txt) under {base}: "
                             "pass root= pointing at the dataset.")
    else:
        if not (base / word).is_dir():
            available = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
            raise InputError(f"No directory for word {word!r} under {base}; available: {', '.join(available) or 'none'}."
                             " Pick one of those or pass root= pointing at CoarseWSD-20.")
        words = [word]
    texts, positions, labels, split, names = [], [], [], [], []
    for item in words:
        senses = _read_classes(base / item / "classes_map.txt")
        offset = len(names)
        names.extend(senses if word is not None else [f"{item}:{sense}" for sense in senses])
        for part in ("train", "test"):
            part_texts, part_words, part_labels = _read_wsd_split(base / item, part)
            if part_labels and max(part_labels) >= len(senses):
                raise InputError(f"{base / item / f'{part}.gold.txt'}: label {max(part_labels)} is not in "
                                 f"classes_map.txt (0..{len(senses) - 1}).")
            texts += part_texts
            positions += part_words
            labels += [offset + label for label in part_labels]
            split += [part] * len(part_texts)
    return ProbeDataset(texts, np.array(labels), names, positions, np.array(split), word or "coarsewsd20")


def load_table_dataset(path: str | Path, text_column: str = "sentence", label_column: str = "label",
                       word_column: str | None = None, split_column: str | None = None,
                       fmt: str = "auto") -> ProbeDataset:
    """Load any sentence- or word-level TSV/CSV/JSONL with a label column.

    Parameters
    ----------
    path
        The table (see :func:`bertology.core.data.read_table`).
    text_column, label_column
        Columns with the sentence and its label (any strings; classes are sorted).
    word_column
        Column with the target word's 0-based whitespace index, for word-level tasks.
    split_column
        Column with ``train``/``test`` for an official split.
    fmt
        Table format (``auto`` from the suffix).

    Returns
    -------
    ProbeDataset

    Raises
    ------
    InputError
        Missing columns, a non-integer word index, a split value other than train/test.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.tsv"
    >>> _ = p.write_text("sentence\\tlabel\\nthe bank\\tmoney\\nthe river bank\\tgeo\\n")
    >>> load_table_dataset(p).label_names
    ['geo', 'money']
    """
    rows = read_table(path, fmt)
    texts = [str(text) for text in column(rows, text_column, path)]
    names, labels = np.unique([str(value) for value in column(rows, label_column, path)], return_inverse=True)
    words = int_column(rows, word_column, path) if word_column else None
    split = None
    if split_column:
        split = np.array([str(value).strip().lower() for value in column(rows, split_column, path)])
        bad = sorted(set(split) - {"train", "test"})
        if bad:
            raise InputError(f"{path}: column {split_column!r} must hold 'train' or 'test', found {bad[:3]}.")
    return ProbeDataset(texts, labels, [str(n) for n in names], words, split, Path(path).stem)


def load_sst2(path: str | Path | None = None) -> ProbeDataset:
    """Load SST-2 in its GLUE TSV format (header, then ``sentence<TAB>label`` with 0/1 labels).

    Parameters
    ----------
    path
        The TSV; default the ~200-sentence sample shipped with bertology.

    Returns
    -------
    ProbeDataset
        Labels 0 = negative, 1 = positive.

    Raises
    ------
    InputError
        Missing file, a malformed line (file and line named), a label other than 0/1.

    Examples
    --------
    >>> d = load_sst2()
    >>> d.label_names, len(d) >= 200
    (['negative', 'positive'], True)
    """
    path = Path(path).expanduser() if path else SHIPPED_SST2
    rows = read_table(path, "tsv")
    texts = column(rows, "sentence", path)
    labels = []
    for number, value in enumerate(column(rows, "label", path), start=2):
        if value.strip() not in {"0", "1"}:
            raise InputError(f"{path}:{number}: SST-2 labels are 0 (negative) or 1 (positive), got {value!r}.")
        labels.append(int(value))
    return ProbeDataset(texts, np.array(labels), ["negative", "positive"], name="sst2")


def load_dataset(name: str, data: str | Path | None = None, word: str | None = None, text_column: str = "sentence",
              label_column: str = "label", word_column: str | None = None) -> ProbeDataset:
    """A labelled dataset by name: CoarseWSD-20, SST-2, or any label table.

    Parameters
    ----------
    name
        ``coarsewsd20`` (``data`` = dataset root, ``word`` one word or None for all),
        ``sst2`` (``data`` = the TSV), ``table`` (``data`` = any TSV/CSV/JSONL), or a per-word
        tag of a CoNLL-U treebank, ``upos``, ``xpos`` or ``deprel`` (``data`` = the file; see
        :func:`~bertology.core.data.word_tasks.word_task`; tags seen fewer than
        ``WORD_TAG_MIN_COUNT`` = 5 times are left out, as 5-fold cross-validation needs 5
        words of every tag).
    data
        Path; ``None`` uses the sample shipped with bertology (not for ``table``).
    word
        CoarseWSD-20 word.
    text_column, label_column, word_column
        Columns of a ``table`` task.

    Returns
    -------
    ProbeDataset

    Examples
    --------
    >>> len(load_dataset("coarsewsd20", word="bank"))
    40
    """
    if name == "coarsewsd20":
        return load_coarsewsd20(word, root=data)
    if name == "sst2":
        return load_sst2(data)
    if name == "table":
        if data is None:
            raise InputError("dataset 'table' needs a data file: pass data=PATH (CLI: --input PATH).")
        return load_table_dataset(data, text_column, label_column, word_column)
    if name in WORD_TAGS:
        if data is None:
            raise InputError(f"dataset {name!r} is a per-word tag of a treebank: pass data=PATH of a CoNLL-U file "
                             "(CLI: --input PATH).")
        return word_task(load_conllu(data), name, min_count=WORD_TAG_MIN_COUNT)
    raise InputError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
