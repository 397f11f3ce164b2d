"""The cloze suites bertology ships (``core/data/suites/*.jsonl``) and user suite files: names, schemas, reading.

Two schemas:

* **choice** (``agreement``, ``pronoun``, ``telicity``, ``color``): ``id``, ``template``
  (one ``[MASK]``), ``candidates`` (≥ 2 distinct words), ``correct`` (one of them),
  ``condition``, optional ``metadata``.
* **bias** (``gender-occupation``): ``id``, ``template`` (one ``{target}`` slot and one
  ``[MASK]`` for the attribute), ``targets`` (two words, e.g. ``["woman", "man"]``),
  ``attribute`` (e.g. an occupation), ``condition``, optional ``metadata``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from bertology.core.data.names import SUITES
from bertology.core.data.tables import jsonl_objects, read_text
from bertology.core.errors import InputError

ALIASES = {"colour": "color", "gender": "gender-occupation", "bias": "gender-occupation"}
SCHEMAS = {
    "choice": {"id": str, "template": str, "candidates": list, "correct": str, "condition": str},
    "bias": {"id": str, "template": str, "targets": list, "attribute": str, "condition": str},
}
MASK_MARKER = re.compile(r"\[MASK\]|\{mask\}")


def suite_path(name: str) -> Path:
    """Path of a shipped suite file.

    Parameters
    ----------
    name
        One of :data:`SUITES` (or an alias such as ``"colour"``).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Unknown suite name.

    Examples
    --------
    >>> suite_path("agreement").name
    'agreement.jsonl'
    """
    canonical = ALIASES.get(name, name)
    if canonical not in SUITES:
        raise InputError(f"Unknown suite {name!r}: choose one of {sorted(SUITES)} or pass a path to a JSONL file.")
    return Path(str(resources.files("bertology") / "core" / "data" / "suites" / f"{canonical}.jsonl"))


def validate_item(item: Any, kind: str, where: str = "item") -> None:
    """Check one suite item against its schema.

    Parameters
    ----------
    item
        The parsed JSON object.
    kind
        ``"choice"`` or ``"bias"``.
    where
        Names the item in the error (file and line).

    Raises
    ------
    InputError
        A missing or extra field, a wrong type, no or several masks, a correct answer
        not among the candidates...

    Examples
    --------
    >>> validate_item({"id": "1", "template": "The boys [MASK] shy.", "candidates": ["are", "is"],
    ...                "correct": "are", "condition": "simple"}, "choice")
    """
    schema = SCHEMAS[kind]
    if not isinstance(item, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(item).__name__}.")
    missing = [key for key in schema if key not in item]
    extra = [key for key in item if key not in schema and key != "metadata"]
    if missing or extra:
        raise InputError(f"{where}: {kind} items need fields {sorted(schema)} (+ optional metadata); "
                         f"missing {missing}, unexpected {extra}.")
    for key, expected in schema.items():
        if not isinstance(item[key], expected) or (expected is str and not item[key].strip()):
            raise InputError(f"{where}: field {key!r} must be a non-empty {expected.__name__}, got {item[key]!r}.")
    if not isinstance(item.get("metadata", {}), dict):
        raise InputError(f"{where}: metadata must be an object.")
    if len(MASK_MARKER.findall(item["template"])) != 1:
        raise InputError(f"{where}: template {item['template']!r} must hold exactly one [MASK].")
    words = item["candidates"] if kind == "choice" else item["targets"]
    if (len(words) < 2 or len(set(words)) != len(words)
            or not all(isinstance(w, str) and w.strip() for w in words)):
        raise InputError(f"{where}: needs at least two distinct non-empty words, got {words!r}.")
    if kind == "choice" and item["correct"] not in words:
        raise InputError(f"{where}: correct answer {item['correct']!r} is not among the candidates {words}.")
    if kind == "bias" and (len(words) != 2 or item["template"].count("{target}") != 1):
        raise InputError(f"{where}: bias items need exactly two targets and one {{target}} slot in the template.")


def load_suite(name_or_path: str | Path) -> tuple[str, str, list[dict[str, Any]]]:
    """Read and validate a suite.

    Parameters
    ----------
    name_or_path
        A shipped suite name (see :data:`SUITES`) or a JSONL file in one of the two schemas.

    Returns
    -------
    tuple
        ``(name, kind, items)``.

    Raises
    ------
    InputError
        Unknown name, missing file, bad JSON, or an item that breaks the schema (file and line named).

    Examples
    --------
    >>> name, kind, items = load_suite("telicity")
    >>> kind, items[0]["candidates"]
    ('choice', ['in', 'for'])
    """
    text = str(name_or_path)
    is_name = ALIASES.get(text, text) in SUITES
    path = suite_path(text) if is_name else Path(text)
    if not path.is_file():
        raise InputError(f"Suite {text!r} is neither a shipped suite {sorted(SUITES)} nor an existing JSONL file.")
    records = jsonl_objects(read_text(path, "Suite file"), path)
    if not records:
        raise InputError(f"{path} holds no items.")
    name = ALIASES.get(text, text) if is_name else path.stem
    kind = SUITES.get(name) or ("bias" if isinstance(records[0][1], dict) and "targets" in records[0][1] else "choice")
    for number, item in records:
        validate_item(item, kind, f"{path}:{number}")
    ids = [item["id"] for _, item in records]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: item ids must be unique.")
    return name, kind, [item for _, item in records]
