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
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd

from bertology.analyses.cloze.names import AGREEMENT_FORMATS
from bertology.core.errors import InputError

CROWS_COLUMNS = ("sent_more", "sent_less", "stereo_antistereo", "bias_type")
BLIMP_COLUMNS = ("sentence_good", "sentence_bad", "UID")
GULORDAVA_COLUMNS = ("class", "form", "sent", "len_prefix", "n_attr")
MASK = "***mask***"


def _existing(path: str | Path) -> Path:
    source = Path(path)
    if not source.exists():
        raise InputError(f"{source} does not exist: pass the path of the downloaded benchmark file.")
    return source


def read_crows_pairs(path: str | Path) -> pd.DataFrame:
    """CrowS-Pairs pairs as a frame.

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
        Missing file or columns.

    Examples
    --------
    >>> read_crows_pairs("tests/fixtures/crows_pairs_sample.csv").bias_type.iloc[0]
    'race-color'
    """
    frame = pd.read_csv(_existing(path), index_col=0, keep_default_na=False)
    missing = [column for column in CROWS_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"{path} lacks CrowS-Pairs columns {missing}; expected the header "
                         ",sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators.")
    if frame.empty:
        raise InputError(f"{path} holds no pairs.")
    return frame.reset_index(drop=True)


def read_stereoset(path: str | Path) -> list[dict[str, Any]]:
    """StereoSet intrasentence examples.

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
        Missing file, bad JSON, or no intrasentence examples.

    Examples
    --------
    >>> len(read_stereoset("tests/fixtures/stereoset_sample.json")[0]["sentences"])
    3
    """
    try:
        payload = json.loads(_existing(path).read_text(encoding="utf-8"))
        examples = payload["data"]["intrasentence"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise InputError(f"{path} is not a StereoSet file with data.intrasentence ({error}).") from None
    for example in examples:
        labels = sorted(s["gold_label"] for s in example["sentences"])
        if "BLANK" not in example["context"] or labels != ["anti-stereotype", "stereotype", "unrelated"]:
            raise InputError(f"{path}: example {example.get('id')} needs a context with BLANK and one stereotype, "
                             "anti-stereotype and unrelated sentence.")
    if not examples:
        raise InputError(f"{path} holds no intrasentence examples.")
    return examples


def read_blimp(path: str | Path) -> pd.DataFrame:
    """BLiMP minimal pairs from one paradigm file or a directory of them.

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
        Missing files or fields.

    Examples
    --------
    >>> read_blimp("tests/fixtures/blimp_sample.jsonl").UID.nunique()
    2
    """
    source = _existing(path)
    files = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    rows = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise InputError(f"{file}:{number}: not valid JSON ({error.msg}).") from None
    frame = pd.DataFrame(rows)
    missing = [column for column in BLIMP_COLUMNS if column not in frame.columns]
    if frame.empty or missing:
        raise InputError(f"{path} holds no BLiMP pairs with fields {list(BLIMP_COLUMNS)} (missing {missing}).")
    for column in ("field", "linguistics_term"):
        if column not in frame.columns:
            frame[column] = "unknown"
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


def read_agreement(path: str | Path, fmt: str = "auto") -> tuple[pd.DataFrame, int]:
    """Subject–verb agreement stimuli as masked sentences with a good and a bad verb form.

    Parameters
    ----------
    path
        ``lgd_dataset.tsv``, ``generated.tab`` or a Marvin & Linzen TSV.
    fmt
        ``"auto"``, ``"lgd"``, ``"gulordava"`` or ``"marvin"``.

    Returns
    -------
    tuple
        ``(frame, n_unpaired)``: the frame has ``masked`` (with ``***mask***``), ``good``,
        ``bad`` and ``condition`` (attractor count, or the Marvin & Linzen case); Marvin &
        Linzen pairs that differ in more than one word are left out and counted, as in Goldberg (2019).

    Raises
    ------
    InputError
        Missing file, unknown format, or malformed rows.

    Examples
    --------
    >>> frame, dropped = read_agreement("tests/fixtures/lgd_sample.tsv")
    >>> frame.columns.tolist()
    ['masked', 'good', 'bad', 'condition']
    """
    if fmt not in AGREEMENT_FORMATS:
        raise InputError(f"fmt={fmt!r} is not one of {AGREEMENT_FORMATS}.")
    lines = [line for line in _existing(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise InputError(f"{path} is empty.")
    fmt = _detect_agreement(lines) if fmt == "auto" else fmt
    rows, unpaired = [], 0
    if fmt == "gulordava":
        records = list(csv.DictReader(lines, delimiter="\t"))
        if len(records) % 2:
            raise InputError(f"{path}: generated.tab rows come in correct/wrong pairs; found an odd number.")
        for good, bad in zip(records[::2], records[1::2]):
            if good["sent"] != bad["sent"] or good["class"] != "correct" or bad["class"] != "wrong":
                raise InputError(f"{path}: rows for {good['sent'][:40]!r} are not a correct/wrong pair.")
            words = good["sent"].split()[:-1]  # drop the <eos> token
            words[int(good["len_prefix"])] = MASK
            rows.append((" ".join(words), good["form"], bad["form"], f"attractors-{good['n_attr']}"))
    elif fmt == "lgd":
        for number, line in enumerate(lines, start=1):
            parts = line.split("\t")
            if len(parts) != 5 or MASK not in parts[2]:
                raise InputError(f"{path}:{number}: lgd rows have 5 tab-separated fields with {MASK} in the third.")
            rows.append((parts[2], parts[3], parts[4], f"attractors-{parts[0]}"))
    else:
        for number, line in enumerate(lines, start=1):
            parts = line.split("\t")
            if len(parts) < 4:
                raise InputError(f"{path}:{number}: Marvin & Linzen rows need case, type, good and bad sentences.")
            good, bad = parts[-2].split(), parts[-1].split()
            diffs = [i for i, (g, b) in enumerate(zip(good, bad)) if g != b]
            if len(good) != len(bad) or len(diffs) != 1:
                unpaired += 1
                continue
            form, wrong = good[diffs[0]], bad[diffs[0]]
            good[diffs[0]] = MASK
            rows.append((" ".join(good) + " .", form, wrong, parts[0]))
    return pd.DataFrame(rows, columns=["masked", "good", "bad", "condition"]), unpaired
