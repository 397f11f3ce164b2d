"""Experiment configs: read TOML, apply ``--set`` overrides, validate everything before a model loads."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from bertology.core.errors import InputError, ModelError
from bertology.core.models.loading import MINILM_ALIAS, minilm_path, resolve_device
from bertology.core.paths import resolve_data_path
from bertology.experiments.checks import layer_selection
from bertology.experiments.registry import STEP_NAME, STEPS, StepSpec

TOP_LEVEL_KEYS = {"model": str, "models": list, "seed": int, "out": str, "device": str, "data": dict,
                  "steps": dict}
DATA_KEYS = {"root": str}
DEFAULT_MODEL = "minilm"
STEP_KEY = "step"
COMPARE_DIR = "compare"
"""The directory of a multi-model run that holds the combined tables and figures of each step."""


@dataclass
class StepConfig:
    """One ``[steps.<name>]`` table after validation: the spec and its parameters with defaults filled in.

    ``name`` is the table name (and the step's directory in the run); the table's optional
    ``step`` key picks the registered step, so one step can run twice with different
    parameters (``[steps.sst2_cls] step = "probe"``).
    """

    name: str
    spec: StepSpec
    params: dict[str, Any]


@dataclass
class ExperimentConfig:
    """A validated experiment.

    Attributes
    ----------
    model
        Model name, local path, hub id, or ``"minilm"`` (the first of ``models`` in a
        multi-model run).
    seed
        Seed for every step.
    out
        Run directory.
    device
        Device for the model (``None``: automatic).
    data_root
        Directory that relative data paths are resolved against.
    steps
        Steps in the order of their tables.
    raw
        The config as run (overrides applied, defaults filled in), for the manifest.
    source
        The TOML file it came from, if any.
    overrides
        The ``key=value`` overrides that were applied.
    models
        The models of a multi-model run (the config's ``models = [...]``), in order; empty
        for a run of one ``model``. Each runs every step into ``out/<model_slug(name)>``.
    """

    model: str
    seed: int
    out: Path
    device: str | None
    data_root: Path
    steps: list[StepConfig]
    raw: dict[str, Any]
    source: Path | None = None
    overrides: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def for_model(self, name: str) -> ExperimentConfig:
        """The single-model run of one model of a multi-model run: the same steps, into ``out/<slug>``.

        Examples
        --------
        >>> import bertology.experiments.steps
        >>> cfg = validate_config({"models": ["minilm", "my/fine-tuned"], "out": "runs/x", "steps": {"attention": {}}})
        >>> sub = cfg.for_model("my/fine-tuned")
        >>> sub.model, sub.out.as_posix(), sub.models
        ('my/fine-tuned', 'runs/x/my--fine-tuned', [])
        """
        out = self.out / model_slug(name)
        raw = {key: value for key, value in self.raw.items() if key != "models"}
        return ExperimentConfig(model=name, seed=self.seed, out=out, device=self.device, data_root=self.data_root,
                                steps=self.steps, raw={**raw, "model": name, "out": str(out)}, source=self.source,
                                overrides=self.overrides)


def model_slug(name: str) -> str:
    """The directory name of a model in a multi-model run: its name with ``/`` as ``--``, other characters that
    are not letters, digits, ``.``, ``_`` or ``-`` as ``_``.

    Examples
    --------
    >>> model_slug("minilm"), model_slug("google/electra-base-discriminator"), model_slug("runs/ft 2/final")
    ('minilm', 'google--electra-base-discriminator', 'runs--ft_2--final')
    >>> model_slug("/data/models/bert/")
    'data--models--bert'
    """
    parts = [re.sub(r"[^A-Za-z0-9._-]", "_", part) for part in name.replace("\\", "/").split("/")
             if part not in ("", ".", "..")]
    return "--".join(parts).lstrip(".-") or "model"


def _same_model(name: str) -> str:
    """What identifies a model for duplicate checks: a local directory's resolved path, else the name."""
    path = Path(name).expanduser()
    return str(path.resolve()) if path.is_dir() else name


def check_models(models: Any) -> list[str]:
    """The ``models`` of a multi-model run: a non-empty list of distinct model names with distinct directories.

    Raises
    ------
    InputError
        For an empty list, an entry that is not a non-blank string, the same model twice
        (also under two spellings of one local directory), two models that would share a
        directory, or a model whose directory would be ``compare``.

    Examples
    --------
    >>> check_models(["minilm", "bert-base-uncased"])
    ['minilm', 'bert-base-uncased']
    >>> check_models(["minilm", "minilm"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: models lists 'minilm' twice: ...
    """
    if not isinstance(models, (list, tuple)) or not models:
        raise InputError(f"models = {models!r} is empty: list the models to compare, e.g. "
                         f"models = [\"minilm\", \"path/to/fine-tuned\"], or give one model = \"...\".")
    seen: dict[str, str] = {}
    slugs: dict[str, str] = {}
    for name in models:
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"models = {list(models)!r}: {name!r} is not a model name; each entry is a name, "
                             f"hub id or local directory (a non-blank string).")
        same = _same_model(name)
        if same in seen:
            raise InputError(f"models lists {name!r} twice" + (f" (as {seen[same]!r} too)" if seen[same] != name
                                                                else "") + ": remove the duplicate.")
        seen[same] = name
        slug = model_slug(name)
        if slug == COMPARE_DIR:
            raise InputError(f"Model {name!r} would run into directory {slug!r}, which holds the combined results of "
                             f"a multi-model run: give its path another way, e.g. ./{name}/.")
        if slug in slugs:
            raise InputError(f"Models {slugs[slug]!r} and {name!r} would share the directory {slug!r} of the run: "
                             f"give one of them by another path.")
        slugs[slug] = name
    return list(models)


def parse_value(text: str) -> Any:
    """Read an override value as a TOML literal, falling back to the plain string.

    Examples
    --------
    >>> parse_value("3"), parse_value("[1, 2]"), parse_value("true"), parse_value("bert-base-uncased")
    (3, [1, 2], True, 'bert-base-uncased')
    """
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(config: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``config`` with ``key=value`` overrides applied (dotted keys reach into tables).

    Parameters
    ----------
    config
        The config as read from TOML.
    overrides
        Strings such as ``"data.root=/data"``, ``"model=bert-base-uncased"``, ``"steps.probe.cv=3"``.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        For an override without ``=`` or one that would replace a table by a value.

    Examples
    --------
    >>> apply_overrides({"seed": 0, "steps": {"probe": {"cv": 5}}}, ["seed=1", "steps.probe.cv=3"])
    {'seed': 1, 'steps': {'probe': {'cv': 3}}}
    """
    result = copy.deepcopy(dict(config))
    for override in overrides:
        key, sep, text = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"Cannot read override {override!r}: write it as key=value, e.g. steps.probe.cv=3.")
        parts = key.split(".")
        table = result
        for depth, part in enumerate(parts[:-1]):
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"Override {override!r}: {'.'.join(parts[:depth + 1])} is a value, not a table.")
            table = child
        table[parts[-1]] = parse_value(text.strip())
    return result


def _type_name(expected: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            list: "a list", dict: "a table"}.get(expected, expected.__name__)


def _matches(value: Any, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected in (list, tuple):
        return isinstance(value, (list, tuple))
    return isinstance(value, expected)


def _check_keys(table: Mapping[str, Any], allowed: Mapping[str, Any], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"Unknown key {where}{key!r}: allowed keys are {', '.join(sorted(allowed)) or 'none'}.")


def check_step_name(name: str) -> str:
    """A step name must be a plain directory name, since it names the step's directory in the run.

    Raises
    ------
    InputError
        For a name with a path separator, ``..``, a leading dot or dash, spaces, or other
        characters than letters, digits, ``_`` and ``-``.

    Examples
    --------
    >>> check_step_name("sst2_cls")
    'sst2_cls'
    >>> check_step_name("../victim")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: Step name '../victim' ...
    """
    if not isinstance(name, str) or not STEP_NAME.fullmatch(name):
        raise InputError(f"Step name {name!r} in [steps.{name}] is not a plain directory name: it names the step's "
                         f"directory in the run, so use letters, digits, _ and - only (up to 100), e.g. "
                         f"[steps.my_probe].")
    return name


def model_depth(model: str) -> int | None:
    """The number of transformer layers of a model, read from its ``config.json`` without loading weights.

    Works for ``"minilm"``, a local directory, and a hub id already in the local cache;
    ``None`` when the config cannot be read without the network (the model's own loading
    reports that).

    Examples
    --------
    >>> model_depth("minilm")
    6
    """
    try:
        location = str(minilm_path()) if model == MINILM_ALIAS else model
    except ModelError:
        return None
    from transformers import AutoConfig

    try:
        return int(AutoConfig.from_pretrained(location, local_files_only=True).num_hidden_layers)
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None


def _check_step(name: str, table: Any, data_root: Path, depth: Callable[[], int | None]) -> StepConfig:
    check_step_name(name)
    if not isinstance(table, dict):
        raise InputError(f"steps.{name} must be a table of parameters, got {table!r}.")
    table = dict(table)
    kind = table.pop(STEP_KEY, name)
    if kind not in STEPS:
        where = f"[steps.{name}]" if kind == name else f"[steps.{name}] {STEP_KEY} = {kind!r}"
        raise InputError(f"Unknown step {where}: available steps are {', '.join(sorted(STEPS)) or 'none'}.")
    spec = STEPS[kind]
    _check_keys(table, spec.defaults, f"in [steps.{name}]: ")
    for key in spec.required:
        if table.get(key) in (None, ""):
            raise InputError(f"[steps.{name}] needs {key!r}: add {key} = ... to the table "
                             f"or --set steps.{name}.{key}=...")
    params = {**copy.deepcopy(dict(spec.defaults)), **table}
    for key, value in table.items():
        default = spec.defaults[key]
        allowed = tuple(spec.types.get(key, ())) or ((type(default),) if default is not None else ())
        if not allowed or value is None:
            continue
        if not any(_matches(value, expected) for expected in allowed):
            raise InputError(f"[steps.{name}] {key} = {value!r} has the wrong type: expected "
                             f"{' or '.join(_type_name(t) for t in allowed)} (default {default!r}).")
    try:
        if spec.validate is not None:
            spec.validate(params)
        for key in spec.layer_params:
            layer_selection(key, params[key], depth())
    except InputError as error:
        raise InputError(f"[steps.{name}] {error}") from None
    for key in spec.data_params:
        value = params.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise InputError(f"[steps.{name}] {key} = {value!r} must be a path (a string).")
        path = resolve_data_path(value, data_root)
        if not path.exists():
            raise InputError(f"[steps.{name}] {key}: data path {path} does not exist. Fix the path, or set the data "
                             f"root it is relative to with [data] root = ... or --set data.root=DIR.")
    return StepConfig(name, spec, params)


def validate_config(raw: Mapping[str, Any], source: Path | None = None,
                    overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Check a config dict completely; nothing here loads a model.

    Parameters
    ----------
    raw
        The config after overrides.
    source
        The TOML file it came from (its stem names the default run directory).
    overrides
        The overrides that were applied (recorded in the manifest).

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    InputError
        Naming the key and the allowed values or type: unknown keys or steps, step names
        that are not plain directory names, an empty ``out``, a device this machine does
        not have, wrong types, values a step
        rejects (choices, ranges, layers beyond the model's depth when its config can be
        read without loading it), missing required parameters, missing data paths, no steps;
        both ``model`` and ``models``, or ``models`` that are empty or list a model twice
        (see :func:`check_models`).

    Examples
    --------
    >>> import bertology.experiments.steps
    >>> validate_config({"model": "minilm", "steps": {"attention": {}}}).steps[0].name
    'attention'
    >>> validate_config({"models": ["minilm", "runs/ft"], "steps": {"attention": {}}}).models
    ['minilm', 'runs/ft']
    """
    _check_keys(raw, TOP_LEVEL_KEYS, "")
    for key, expected in TOP_LEVEL_KEYS.items():
        if key in raw and not _matches(raw[key], expected):
            raise InputError(f"{key} = {raw[key]!r} has the wrong type: expected {_type_name(expected)}.")
    data = raw.get("data", {})
    _check_keys(data, DATA_KEYS, "in [data]: ")
    if "root" in data and not isinstance(data["root"], str):
        raise InputError(f"data.root = {data['root']!r} has the wrong type: expected a string (a directory).")
    data_root = Path(data.get("root", ".")).expanduser().resolve()
    if "root" in data and not data_root.is_dir():
        raise InputError(f"data.root: directory {data_root} does not exist. Point it at your data, "
                         f"e.g. --set data.root=/data/CoarseWSD-20.")
    if raw.get("device") is not None:
        try:
            resolve_device(raw["device"])
        except InputError as error:
            raise InputError(f"device = {raw['device']!r}: {error}") from None
    if "out" in raw and not raw["out"].strip():
        raise InputError("out = '' is empty: give the run directory, e.g. out = \"runs/my_run\" or --out runs/my_run.")
    tables = raw.get("steps", {})
    if not tables:
        raise InputError(f"The config has no steps: add at least one [steps.<name>] table "
                         f"(available: {', '.join(sorted(STEPS)) or 'none'}).")
    if "model" in raw and "models" in raw:
        raise InputError(f"The config gives both model = {raw['model']!r} and models = {raw['models']!r}: keep one, "
                         f"model for one model or models = [...] to run every step on several.")
    models = check_models(raw["models"]) if "models" in raw else []
    model = models[0] if models else raw.get("model", DEFAULT_MODEL)
    depth = functools.cache(lambda: min((d for d in map(model_depth, models or [model]) if d is not None),
                                        default=None))
    steps = [_check_step(name, table, data_root, depth) for name, table in tables.items()]
    default_out = f"runs/{source.stem}" if source is not None else "runs/experiment"
    as_run = {**({"models": models} if models else {"model": model}), "seed": raw.get("seed", 0),
              "out": raw.get("out", default_out), "device": raw.get("device"),
              "data": {"root": str(data_root)},
              "steps": {step.name: {**({STEP_KEY: step.spec.name} if step.spec.name != step.name else {}),
                                    **step.params} for step in steps}}
    return ExperimentConfig(model=model, seed=as_run["seed"], out=Path(as_run["out"]).expanduser(),
                            device=as_run["device"], data_root=data_root, steps=steps, raw=as_run,
                            source=source, overrides=list(overrides), models=models)


def load_config(config: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read a TOML file (or take a dict), apply overrides and validate.

    Parameters
    ----------
    config
        Path to a TOML file, or the same structure as a dict.
    overrides
        ``key=value`` strings (see :func:`apply_overrides`).

    Returns
    -------
    ExperimentConfig

    Raises
    ------
    InputError
        Missing or malformed file, or anything :func:`validate_config` rejects.

    Examples
    --------
    >>> import bertology.experiments.steps
    >>> cfg = load_config({"steps": {"attention": {}}}, ["model=bert-base-uncased", "seed=3"])
    >>> cfg.model, cfg.seed
    ('bert-base-uncased', 3)
    """
    import bertology.experiments.steps  # noqa: F401  (registers every step)

    source = None
    if isinstance(config, Mapping):
        raw = dict(config)
    else:
        source = Path(config)
        if not source.is_file():
            state = "is a directory" if source.is_dir() else "does not exist"
            raise InputError(f"Experiment config {source} {state}: give a TOML file such as "
                             f"experiments/quickstart.toml.")
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            raise InputError(f"{source} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
                             f"{error.start}): TOML files are UTF-8; save it as UTF-8.") from None
        except tomllib.TOMLDecodeError as error:
            raise InputError(f"{source} is not valid TOML: {error}.") from None
    return validate_config(apply_overrides(raw, overrides), source=source, overrides=overrides)
