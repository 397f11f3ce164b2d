"""Readers for the standard cloze benchmark files, in their real formats.

* CrowS-Pairs (Nangia et al. 2020): ``crows_pairs_anonymized.csv`` with columns
  ``,sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators``.
* StereoSet (Nadeem et al. 2021): ``dev.json`` / ``test.json`` with ``data.intrasentence``.
* BLiMP (Warstadt et al. 2020): one JSONL file per paradigm (``sentence_good``,
  ``sentence_bad``, ``field``, ``linguistics_term``, ``UID``, ``pair_id``...).
* Agreement stimuli as used by Goldberg (2019): Linzen et al.'s (2016) ``lgd_dataset.tsv``
  (``n_attractors, sentence, masked sentence with ***mask***, good verb, bad verb``),
  Gulordava et al.'s (2018) ``generated.tab`` (pairs of ``correct``/``wrong`` rows) and
  Marvin & Linzen's (2018) pairs (``case, type, good sentence, bad sentence``).

Every reader checks each row and names the file and line (or the StereoSet example) of a
malformed one, so that a truncated or edited file is refused instead of scored.
"""

from __future__ import annotations

import csv
import io
import json
import string
from pathlib import Path
from typing import Any

import pandas as pd

from bertology.analyses.cloze.names import AGREEMENT_FORMATS
from bertology.core.data.tables import jsonl_objects, read_text
from bertology.core.errors import InputError

CROWS_COLUMNS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")
CROWS_DIRECTIONS = ("stereo", "antistereo")
BLIMP_COLUMNS = ("sentence_good", "sentence_bad", "UID")
GULORDAVA_COLUMNS = ("class", "form", "sent", "len_prefix", "n_attr")
STEREOSET_LABELS = ["anti-stereotype", "stereotype", "unrelated"]
IS_ARE = ("is", "are")
MASK = "***mask***"
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _read_text(path: str | Path) -> str:
    """The UTF-8 text of a benchmark file, or an InputError naming what is wrong with the path."""
    return read_text(path, what="Benchmark file")


def read_crows_pairs(path: str | Path) -> pd.DataFrame:
    """CrowS-Pairs pairs as a frame, every row checked.

    Parameters
    ----------
    path
        ``crows_pairs_anonymized.csv`` (Nangia et al. 2020).

    Returns
    -------
    pandas.DataFrame
        ``sent_more``, ``sent_less``, ``stereo_antistereo``, ``bias_type`` (+ the file's other columns).

    Raises
    ------
    InputError
        Missing file or columns, or a row (named by file and line) with an empty sentence or
        bias type, a direction other than ``stereo``/``antistereo``, or more fields than the
        header: the marks of a truncated or edited file.

    Examples
    --------
    >>> read_crows_pairs("tests/fixtures/crows_pairs_sample.csv").bias_type.iloc[0]
    'race-color'
    """
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    header = reader.fieldnames or []
    missing = [column for column in CROWS_COLUMNS if column not in header]
    if missing:
        raise InputError(f"{path} lacks CrowS-Pairs columns {missing}; expected the header "
                         ",sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators.")
    rows = []
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise InputError(f"{where}: the row has more fields than the header; quote sentences that contain "
                                 "commas, as the released file does.")
            if None in row.values():
                raise InputError(f"{where}: the row stops after {sum(v is not None for v in row.values())} of the "
                                 f"header's {len(header)} fields, so the file is truncated; restore the row from the "
                                 "released crows_pairs_anonymized.csv or delete it.")
            for column in ("sent_more", "sent_less", "bias_type"):
                if not row[column].strip():
                    raise InputError(f"{where}: {column} is empty, so the row is truncated or incomplete; restore it "
                                     "from the released crows_pairs_anonymized.csv or delete it.")
            if row["stereo_antistereo"] not in CROWS_DIRECTIONS:
                raise InputError(f"{where}: stereo_antistereo is {row['stereo_antistereo']!r} but must be 'stereo' "
                                 "or 'antistereo'; restore the row from the released file or delete it.")
            rows.append(row)
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV ({error}).") from None
    if not rows:
        raise InputError(f"{path} holds no pairs.")
    columns = [column for column in header if column]
    return pd.DataFrame([{column: row[column] for column in columns} for row in rows], columns=columns)


def stereoset_word(context: str, sentence: str) -> str:
    """The word of ``sentence`` that fills the ``BLANK`` of ``context``, as StereoSet's ``dataloader.py`` finds it.

    The context is split on spaces, the last word that contains ``BLANK`` gives the
    position, and the sentence's word at that position is returned with all ASCII
    punctuation removed (Nadeem et al. 2021, ``template_word``).

    Parameters
    ----------
    context
        The example's context with ``BLANK``.
    sentence
        One of its sentences.

    Returns
    -------
    str
        The filling word; empty when the sentence has no word there.

    Examples
    --------
    >>> stereoset_word("The people are very BLANK.", "The people are very well-off.")
    'welloff'
    """
    position = [index for index, word in enumerate(context.split(" ")) if "BLANK" in word][-1]
    words = sentence.split(" ")
    return words[position].translate(_PUNCTUATION) if position < len(words) else ""


def _check_stereoset_example(example: Any, where: str) -> None:
    if not isinstance(example, dict):
        raise InputError(f"{where} is a {type(example).__name__}, not an object with id, target, bias_type, "
                         "context and sentences.")
    for key in ("id", "target", "bias_type", "context"):
        if not isinstance(example.get(key), str) or not example[key].strip():
            raise InputError(f"{where} has no {key!r} (or an empty one); every intrasentence example needs id, "
                             "target, bias_type, context and sentences, as in the released dev.json.")
    if example["context"].count("BLANK") != 1:
        raise InputError(f"{where}: the context {example['context']!r} must hold BLANK exactly once.")
    sentences = example.get("sentences")
    if not isinstance(sentences, list) or not all(isinstance(s, dict) for s in sentences):
        raise InputError(f"{where} has no list of sentences; each needs sentence, id and gold_label.")
    for sentence in sentences:
        for key in ("sentence", "id", "gold_label"):
            if not isinstance(sentence.get(key), str) or not sentence[key].strip():
                raise InputError(f"{where}: a sentence has no {key!r} (or an empty one); each sentence needs "
                                 "sentence, id and gold_label.")
        if not stereoset_word(example["context"], sentence["sentence"]):
            raise InputError(f"{where}: sentence {sentence['sentence']!r} has no word where the context "
                             f"{example['context']!r} has BLANK; fill BLANK with one word.")
    if sorted(s["gold_label"] for s in sentences) != STEREOSET_LABELS:
        raise InputError(f"{where} needs exactly one stereotype, one anti-stereotype and one unrelated sentence, "
                         f"got gold labels {[s['gold_label'] for s in sentences]}.")


def read_stereoset(path: str | Path) -> list[dict[str, Any]]:
    """StereoSet intrasentence examples, every example checked.

    Parameters
    ----------
    path
        ``dev.json`` (Nadeem et al. 2021): ``{"version": ..., "data": {"intrasentence": [...]}}``.

    Returns
    -------
    list of dict
        Examples with ``id``, ``target``, ``bias_type``, ``context`` (with ``BLANK``) and
        ``sentences`` (each with ``sentence``, ``id``, ``gold_label``).

    Raises
    ------
    InputError
        Missing file, bad JSON, no intrasentence examples, or an example (named by its
        position and id) without ``context``, ``gold_label``..., with BLANK missing or
        repeated, a sentence with no word at BLANK's place, or other labels than one
        stereotype, one anti-stereotype and one unrelated sentence.

    Examples
    --------
    >>> len(read_stereoset("tests/fixtures/stereoset_sample.json")[0]["sentences"])
    3
    """
    try:
        examples = json.loads(_read_text(path))["data"]["intrasentence"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(f"{path} is not a StereoSet file with data.intrasentence ({error}).") from None
    if not isinstance(examples, list) or not examples:
        raise InputError(f"{path} holds no intrasentence examples.")
    for number, example in enumerate(examples, start=1):
        name = f" (id {example['id']})" if isinstance(example, dict) and isinstance(example.get("id"), str) else ""
        _check_stereoset_example(example, f"{path}: intrasentence example {number}{name}")
    return examples


def read_blimp(path: str | Path) -> pd.DataFrame:
    """BLiMP minimal pairs from one paradigm file or a directory of them, every line checked.

    Parameters
    ----------
    path
        A BLiMP ``.jsonl`` file (Warstadt et al. 2020) or a directory of such files.

    Returns
    -------
    pandas.DataFrame
        One row per pair with ``sentence_good``, ``sentence_bad``, ``UID``, ``field``, ``linguistics_term``...

    Raises
    ------
    InputError
        Missing files, or a line (named by file and line) that is not a JSON object with
        non-empty ``sentence_good``, ``sentence_bad`` and ``UID`` strings.

    Examples
    --------
    >>> read_blimp("tests/fixtures/blimp_sample.jsonl").UID.nunique()
    2
    """
    source = Path(path)
    files = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    rows = []
    for file in files:
        for number, row in jsonl_objects(_read_text(file), file):
            for column in BLIMP_COLUMNS:
                if not isinstance(row.get(column), str) or not row[column].strip():
                    raise InputError(f"{file}:{number}: {column!r} is missing or empty; every BLiMP line needs "
                                     f"non-empty {list(BLIMP_COLUMNS)}.")
            rows.append(row)
    if not rows:
        raise InputError(f"{path} holds no BLiMP pairs: pass a paradigm .jsonl file or a directory of them.")
    frame = pd.DataFrame(rows)
    for column in ("field", "linguistics_term"):
        if column not in frame.columns:
            frame[column] = "unknown"
        frame[column] = frame[column].fillna("unknown")
    return frame


def _detect_agreement(lines: list[str]) -> str:
    header = lines[0].split("\t")
    if all(column in header for column in GULORDAVA_COLUMNS):
        return "gulordava"
    width = len(header)
    if width == 5 and MASK in header[2]:
        return "lgd"
    if width == 4:
        return "marvin"
    raise InputError("Cannot tell the agreement format: expected generated.tab (Gulordava et al. 2018), "
                     "lgd_dataset.tsv (5 columns with ***mask***) or Marvin & Linzen pairs (4 columns). "
                     "Pass fmt= explicitly.")


def _read_gulordava(path: str | Path, text: str) -> list[tuple[str, str, str, str, int]]:
    """``(masked, good, bad, condition, line)`` per correct/wrong pair of ``generated.tab``, as Goldberg reads it."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
    missing = [column for column in GULORDAVA_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path} lacks generated.tab columns {missing}: pass Gulordava et al.'s generated.tab "
                         "with its header line.")
    records = []
    try:
        for row in reader:
            if None in row or None in row.values():
                raise InputError(f"{path}:{reader.line_num}: the row does not have the header's "
                                 f"{len(reader.fieldnames)} tab-separated fields; the file is truncated or edited.")
            records.append((reader.line_num, row))
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}: not valid TSV ({error}).") from None
    if len(records) % 2:
        raise InputError(f"{path}:{records[-1][0]}: generated.tab rows come in correct/wrong pairs and this last "
                         "row has no partner; the file is truncated.")
    rows = []
    for (line, good), (next_line, bad) in zip(records[::2], records[1::2]):
        if good["sent"] != bad["sent"] or good["class"] != "correct" or bad["class"] != "wrong":
            raise InputError(f"{path}:{line}-{next_line}: these rows are not a correct/wrong pair of one sentence; "
                             "generated.tab lists each sentence's correct row, then its wrong row.")
        words = good["sent"].split()[:-1]  # drop the <eos> token
        if not good["len_prefix"].isdigit() or int(good["len_prefix"]) >= len(words):
            raise InputError(f"{path}:{line}: len_prefix {good['len_prefix']!r} is not a word position of "
                             f"{good['sent']!r}.")
        if not good["form"].strip() or not bad["form"].strip():
            raise InputError(f"{path}:{line}-{next_line}: a verb form is empty.")
        words[int(good["len_prefix"])] = MASK
        rows.append((" ".join(words), good["form"], bad["form"], f"attractors-{good['n_attr']}", line))
    return rows


def read_agreement(path: str | Path, fmt: str = "auto",
                   include_is_are: bool = False) -> tuple[pd.DataFrame, dict[str, int]]:
    """Subject–verb agreement stimuli as masked sentences with a good and a bad verb form.

    Items are read as Goldberg's (2019) ``eval_bert.py`` reads them: Marvin & Linzen pairs
    that differ in more than one word are left out, and so are the ``generated.tab``
    items whose correct form is ``is`` or ``are`` (Goldberg explains why in the paper)
    unless ``include_is_are=True``; both are counted. LGD and Marvin & Linzen items keep
    ``is``/``are``, as in ``eval_bert.py``.

    Parameters
    ----------
    path
        ``lgd_dataset.tsv``, ``generated.tab`` or a Marvin & Linzen TSV.
    fmt
        ``"auto"``, ``"lgd"``, ``"gulordava"`` or ``"marvin"``.
    include_is_are
        Keep the ``generated.tab`` items whose verbs are ``is``/``are``.

    Returns
    -------
    tuple
        ``(frame, counts)``: the frame has ``masked`` (with ``***mask***``), ``good``,
        ``bad``, ``condition`` (attractor count, or the Marvin & Linzen case) and ``line``
        (the item's line in the file); ``counts`` has ``n_unpaired`` and ``n_is_are``, the
        items left out.

    Raises
    ------
    InputError
        Missing file, unknown format, or a malformed row (named by file and line).

    Examples
    --------
    >>> frame, counts = read_agreement("tests/fixtures/lgd_sample.tsv")
    >>> frame.columns.tolist(), counts
    (['masked', 'good', 'bad', 'condition', 'line'], {'n_unpaired': 0, 'n_is_are': 0})
    """
    if fmt not in AGREEMENT_FORMATS:
        raise InputError(f"fmt={fmt!r} is not one of {AGREEMENT_FORMATS}.")
    text = _read_text(path)
    numbered = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise InputError(f"{path} is empty.")
    fmt = _detect_agreement([line for _, line in numbered]) if fmt == "auto" else fmt
    rows, unpaired, is_are = [], 0, 0
    if fmt == "gulordava":
        for row in _read_gulordava(path, text):
            if row[1] in IS_ARE and not include_is_are:
                is_are += 1
            else:
                rows.append(row)
    elif fmt == "lgd":
        for number, line in numbered:
            parts = line.strip().split("\t")
            if len(parts) != 5 or parts[2].count(MASK) != 1 or not parts[3].strip() or not parts[4].strip():
                raise InputError(f"{path}:{number}: lgd rows have 5 tab-separated fields: attractors, sentence, "
                                 f"the sentence with {MASK} once, the good verb and the bad verb.")
            rows.append((parts[2], parts[3], parts[4], f"attractors-{parts[0]}", number))
    else:
        for number, line in numbered:
            parts = line.strip().split("\t")
            if len(parts) < 4 or not parts[-2].strip() or not parts[-1].strip():
                raise InputError(f"{path}:{number}: Marvin & Linzen rows need case, type, good and bad sentences.")
            good, bad = parts[-2].split(), parts[-1].split()
            diffs = [i for i, (g, b) in enumerate(zip(good, bad)) if g != b]
            if len(good) != len(bad) or len(diffs) != 1:
                unpaired += 1
                continue
            form, wrong = good[diffs[0]], bad[diffs[0]]
            good[diffs[0]] = MASK
            rows.append((" ".join(good) + " .", form, wrong, parts[0], number))
    frame = pd.DataFrame(rows, columns=["masked", "good", "bad", "condition", "line"])
    return frame, {"n_unpaired": unpaired, "n_is_are": is_are}
