"""Run an experiment: each step in order, reusing finished steps, with a manifest of everything."""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from bertology.core.distributed import RankInfo, barrier, rank_info, single_process
from bertology.core.errors import InputError, ModelError, StoreError
from bertology.core.io import write_json_atomic
from bertology.core.manifest import content_hash, package_versions
from bertology.core.models import LoadedModel, load_model, model_provenance
from bertology.core.paths import check_output
from bertology.experiments.cache import (
    FIGURES_DIR,
    MARKER,
    damaged_files,
    data_hashes,
    data_paths,
    file_sizes,
    missing_files,
    read_marker,
    render_step_figures,
    result_files,
    step_key,
    write_marker,
)
from bertology.experiments.compare import ANALYSES, combinable, combined_figures, comparison_from_results
from bertology.experiments.config import COMPARE_DIR, ExperimentConfig, StepConfig, load_config, model_slug
from bertology.experiments.registry import StepContext
from bertology.experiments.results import RUN_MANIFEST, TABLE_SUFFIXES, Run, StepResult

logger = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class ModelLoader:
    """Loads the run's model on first request, once per head.

    Parameters
    ----------
    name
        Model name, path or ``"minilm"``.
    device
        Device, or ``None`` for automatic.

    Examples
    --------
    >>> loader = ModelLoader("minilm")
    >>> loader.loaded
    False
    >>> loader().num_layers, loader.loaded
    (6, True)
    """

    def __init__(self, name: str, device: str | None = None) -> None:
        self.name = name
        self.device = device
        self._models: dict[str, LoadedModel] = {}

    @property
    def loaded(self) -> bool:
        """Whether any model has been loaded."""
        return bool(self._models)

    def __call__(self, head: str = "base") -> LoadedModel:
        if head not in self._models:
            logger.info("loading %s (head=%s)", self.name, head)
            self._models[head] = load_model(self.name, head=head, device=self.device)
        return self._models[head]

    def describe(self) -> dict[str, Any] | None:
        """The first loaded model's :meth:`~bertology.LoadedModel.describe`, or ``None``."""
        return next(iter(self._models.values())).describe() if self._models else None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _reusable(marker: dict[str, Any] | None, key: str, step_dir: Path) -> bool:
    return (marker is not None and marker.get("key") == key and marker.get("status") in ("done", "skipped")
            and not damaged_files(step_dir, marker))


def _foreign(step_dir: Path, run_dir: Path) -> str | None:
    """Why ``step_dir`` must not be removed or written as a step of ``run_dir`` (``None``: it may be)."""
    if step_dir.is_symlink() or step_dir.resolve().parent != run_dir.resolve():
        return "is a link or lies outside the run directory"
    if step_dir.exists() and not step_dir.is_dir():
        return "is a file"
    if step_dir.is_dir() and not (step_dir / MARKER).exists() and any(step_dir.iterdir()):
        return f"holds files but no {MARKER}, so it is not a step of a bertology run"
    return None


def _foreign_run(run_dir: Path, parent: Path) -> str | None:
    """Why ``run_dir`` must not be written as one model's run inside a multi-model run (``None``: it may be)."""
    if run_dir.is_symlink() or run_dir.resolve().parent != parent.resolve():
        return "is a link or lies outside the run directory"
    if run_dir.exists() and not run_dir.is_dir():
        return "is a file"
    if run_dir.is_dir() and not (run_dir / RUN_MANIFEST).exists() and any(run_dir.iterdir()):
        return f"holds files but no {RUN_MANIFEST}, so it is not a bertology run"
    return None


def _check_steps(directory: Path, steps: Sequence[StepConfig]) -> None:
    for step in steps:
        step_dir = directory / step.name
        reason = _foreign(step_dir, directory)
        if reason:
            raise InputError(f"Step {step.name!r} would write into {step_dir}, which {reason}: move it away or "
                             f"choose another out.")
        if step_dir.is_dir():
            check_output(step_dir, kind="directory")


def check_run_directory(config: ExperimentConfig) -> None:
    """Before any model loads: the run directory and every step's directory in it can be written, and nothing
    there that bertology did not write would be replaced.

    A multi-model run (``config.models``) checks each model's run directory
    ``out/<model_slug(name)>`` the same way, and the step directories of ``out/compare``.

    Parameters
    ----------
    config
        The validated experiment.

    Raises
    ------
    InputError
        For an ``out`` that is a file or cannot be written, a ``manifest.json`` there that is
        not a run's, and a step (or model) directory that is a file, a link, or a directory
        of other files.

    Examples
    --------
    >>> import tempfile
    >>> from bertology.experiments.config import load_config
    >>> check_run_directory(load_config({"out": tempfile.mkdtemp(), "steps": {"attention": {}}}))
    """
    check_output(config.out, kind="directory")
    manifest = config.out / RUN_MANIFEST
    if manifest.exists():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if not (isinstance(previous, dict) and "step_order" in previous):
            raise InputError(f"{config.out} holds a {RUN_MANIFEST} that is not a bertology run's (another tool's "
                             f"output, or damaged): choose another out, or move that file away.")
    if not config.models:
        _check_steps(config.out, config.steps)
        return
    for name in config.models:
        sub = config.for_model(name)
        reason = _foreign_run(sub.out, config.out)
        if reason:
            raise InputError(f"Model {name!r} would run into {sub.out}, which {reason}: move it away or choose "
                             f"another out.")
        check_run_directory(sub)
    combined = config.out / COMPARE_DIR
    if combined.is_symlink() or (combined.exists() and not combined.is_dir()):
        raise InputError(f"The combined results would go into {combined}, which is a link or a file: move it away "
                         f"or choose another out.")
    _check_steps(combined, config.steps)


def _remove_step_dir(step_dir: Path, run_dir: Path) -> None:
    """Delete a step's earlier results; only ever a directory of the run that bertology wrote."""
    reason = _foreign(step_dir, run_dir)
    if reason:
        raise StoreError(f"Not removing {step_dir}: it {reason}. Move it away, or choose another out.")
    shutil.rmtree(step_dir)


def _refresh_figures(step: StepConfig, step_dir: Path, marker: dict[str, Any]) -> None:
    if marker["status"] == "done" and missing_files(step_dir, list(marker.get(FIGURES_DIR, []))):
        logger.info("%s: re-rendering missing figures from stored results", step.name)
        write_marker(step_dir, {**marker, FIGURES_DIR: render_step_figures(step.spec, step_dir)})


def _mlm_missing(step: StepConfig, loader: ModelLoader) -> str | None:
    """Why a step that needs an MLM head cannot run with this model (``None`` if it can)."""
    try:
        loader("mlm")
    except ModelError as error:
        loader("base")
        logger.debug("%s: no MLM head: %s", step.name, error)
        return (f"skipped: step {step.name!r} needs a masked-LM head and model {loader.name!r} has none; "
                f"run it with a model trained with one, e.g. --set model=bert-base-uncased.")
    return None


def _step_params(step: StepConfig, config: ExperimentConfig) -> dict[str, Any]:
    """The step's parameters with data paths made absolute (resolved only; rank 0 hashes them)."""
    return {**step.params, **{key: str(path) for key, path in data_paths(step, config.data_root).items()}}


def _context(step: StepConfig, config: ExperimentConfig, params: dict[str, Any], loader: ModelLoader,
             progress: bool, rank: RankInfo) -> StepContext:
    _seed_everything(config.seed)
    return StepContext(params=params, out=config.out / step.name, data_root=config.data_root, seed=config.seed,
                       progress=progress, get_model=loader, rank=rank)


def _prepare_step(step: StepConfig, config: ExperimentConfig, loader: ModelLoader, identity: dict[str, Any],
                  force: bool, progress: bool, rank: RankInfo) -> tuple[dict[str, Any], StepContext | None]:
    """Rank 0's decision: a finished entry (reused or skipped), or a running entry and the context to run."""
    step_dir = config.out / step.name
    data = data_hashes(step, config.data_root)
    params = _step_params(step, config)
    key = step_key(step, identity, data, config.seed)
    marker = read_marker(step_dir)
    entry: dict[str, Any] = {"kind": step.spec.name, "key": key, "data": data, "params": step.params}
    if not force and _reusable(marker, key, step_dir):
        _refresh_figures(step, step_dir, marker)
        logger.info("%s: reusing stored results (%s)", step.name, marker["status"])
        status = "cached" if marker["status"] == "done" else "skipped"
        return {**entry, "status": status, "reason": marker.get("reason", ""), "cached": True,
                "elapsed_s": 0.0, "computed_elapsed_s": marker.get("elapsed_s")}, None
    resumable = marker is not None and marker.get("key") == key and marker.get("status") == "running"
    if step_dir.exists() and (force or not resumable):
        _remove_step_dir(step_dir, config.out)
    started, clock = _now(), time.perf_counter()
    write_marker(step_dir, {"status": "running", "key": key, "started": started})
    reason = _mlm_missing(step, loader) if step.spec.needs_mlm else None
    if reason:
        logger.info("%s", reason)
        write_marker(step_dir, {"status": "skipped", "key": key, "reason": reason, "files": [], FIGURES_DIR: [],
                                "started": started, "finished": _now()})
        return {**entry, "status": "skipped", "reason": reason, "cached": False, "started": started,
                "finished": _now(), "elapsed_s": round(time.perf_counter() - clock, 3)}, None
    logger.info("%s: running%s", step.name, " (resuming)" if resumable else "")
    return {**entry, "started": started, "clock": clock}, _context(step, config, params, loader, progress, rank)


def _finish_step(step: StepConfig, step_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Render the figures and mark the step done (rank 0)."""
    figures = render_step_figures(step.spec, step_dir)
    clock = entry.pop("clock")
    elapsed = round(time.perf_counter() - clock, 3)
    finished = _now()
    files = result_files(step_dir)
    write_marker(step_dir, {"status": "done", "key": entry["key"], "files": files,
                            "sizes": file_sizes(step_dir, files), FIGURES_DIR: figures, "started": entry["started"],
                            "finished": finished, "elapsed_s": elapsed})
    return {**entry, "status": "done", "reason": "", "cached": False, "finished": finished, "elapsed_s": elapsed}


def _joined_context(step: StepConfig, config: ExperimentConfig, loader: ModelLoader, progress: bool,
                    rank: RankInfo) -> StepContext | None:
    """On ranks other than 0: the context to run with, if rank 0 marked the step running."""
    marker = read_marker(config.out / step.name)
    if marker is None or marker.get("status") != "running":
        return None
    return _context(step, config, _step_params(step, config), loader, progress, rank)


def run_step(step: StepConfig, config: ExperimentConfig, loader: ModelLoader, identity: dict[str, Any],
             force: bool = False, progress: bool = True, rank: RankInfo | None = None) -> dict[str, Any] | None:
    """Run one step, or reuse its stored results; return its manifest entry.

    Under ``torchrun`` / ``accelerate launch`` every rank calls this for every step. Rank 0
    alone decides whether the step is reused, resumed or redone, and writes its marker,
    tables and figures. A step whose spec is ``distributed`` (``extract``, ``attribute``)
    then runs on every rank at once, each taking its share of the inputs; any other step
    runs on rank 0 only.

    Parameters
    ----------
    step
        The validated step.
    config
        The whole experiment (run directory, data root, seed).
    loader
        The run's lazy model loader.
    identity
        :func:`~bertology.core.models.model_provenance` of the run's model.
    force
        Redo the step even when its stored results match.
    progress
        Show progress bars inside the step.
    rank
        This process's place in a launch; ``None`` reads the launcher's environment.

    Returns
    -------
    dict or None
        On rank 0: ``status`` (``done``, ``cached``, ``skipped``), ``reason``, ``key``,
        times, ``elapsed_s``. ``None`` on other ranks.

    Examples
    --------
    >>> import tempfile
    >>> from bertology.experiments.config import load_config
    >>> cfg = load_config({"out": tempfile.mkdtemp(),
    ...                    "steps": {"extract": {"input": "shipped:sst2_sample.tsv", "layers": "6"}}})
    >>> loader = ModelLoader(cfg.model)
    >>> run_step(cfg.steps[0], cfg, loader, model_provenance(cfg.model), progress=False)["status"]
    'done'
    >>> run_step(cfg.steps[0], cfg, loader, model_provenance(cfg.model), progress=False)["status"]
    'cached'
    """
    info = rank_info() if rank is None else rank
    if not (info.is_distributed and step.spec.distributed):
        if info.rank != 0:
            return None
        with single_process():
            entry, context = _prepare_step(step, config, loader, identity, force, progress, RankInfo())
            if context is not None:
                step.spec.run(context)
                entry = _finish_step(step, context.out, entry)
        return entry
    entry, context = (_prepare_step(step, config, loader, identity, force, progress, info) if info.rank == 0
                      else (None, None))
    barrier(info)
    if info.rank != 0:
        context = _joined_context(step, config, loader, progress, info)
    if context is not None:
        step.spec.run(context)
        if info.rank == 0:
            entry = _finish_step(step, context.out, entry)
    barrier(info)
    return entry


def _previous_model(out: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    try:
        model = json.loads((out / RUN_MANIFEST).read_text(encoding="utf-8")).get("model")
    except (OSError, json.JSONDecodeError):
        return None
    same = model and all(model.get(k) == identity.get(k) for k in ("revision", "weights_sha256")) \
        and model.get("name") == identity["name"]
    return model if same else None


def run_experiment(config: str | Path | Mapping[str, Any], overrides: Sequence[str] = (), force: bool = False,
                   progress: bool = True) -> Run:
    """Run every step of an experiment config; finished steps are reused, the manifest records all.

    The config is validated completely (unknown keys, wrong types, values a step
    rejects, missing required parameters or data paths) and the run directory checked
    (see :func:`check_run_directory`) before any model loads. A step whose cache key (its
    parameters, the model's identity, its input data hashes and the seed) matches a
    finished step in the run directory, with every result file present at the size it
    was written with, is reused; an interrupted step is resumed in place; ``force`` redoes every step. Steps get their
    data parameters as absolute paths (relative ones resolved against ``[data] root``,
    ``shipped:NAME`` against the data bertology ships). Under ``torchrun`` /
    ``accelerate launch`` every rank runs the same command: ``extract`` and ``attribute``
    steps share their inputs out between ranks, the other steps run on rank 0, and rank 0
    alone writes markers and the manifest (see :func:`run_step`).

    A config with ``models = [...]`` instead of ``model`` runs every step on each model,
    into ``out/<slug>`` (a complete one-model run, slug from
    :func:`~bertology.experiments.config.model_slug`), cached per model so that adding a
    model runs only that model; then each step's results are combined into
    ``out/compare/<step>`` (see :func:`combine_step`): one table with a ``model`` column
    and one figure with a curve per model. Its ``manifest.json`` lists each model's
    identity and weights hash under ``models``.

    Parameters
    ----------
    config
        Path to a TOML config, or the same structure as a dict.
    overrides
        ``key=value`` strings with dotted keys (``"steps.probe.cv=3"``, ``"data.root=/data"``).
    force
        Redo every step.
    progress
        Show progress bars.

    Returns
    -------
    Run
        ``run.results[step].to_frame()``, ``run.manifest``; for several models the combined
        results, and ``run.model_runs()`` each model's run.

    Raises
    ------
    InputError
        For an invalid config or run directory (before any model is loaded).

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> run = run_experiment({"model": "minilm", "out": out,
    ...                       "steps": {"attention": {"batch_size": 8}}}, progress=False)  # doctest: +SKIP
    >>> run.results["attention"].status  # doctest: +SKIP
    'done'
    """
    cfg = load_config(config, overrides)
    if cfg.models:
        return _run_models(cfg, force, progress)
    _run_one(cfg, force, progress)
    return Run.load(cfg.out)


def _run_one(cfg: ExperimentConfig, force: bool, progress: bool) -> None:
    """Every step of a one-model run, and its manifest."""
    info = rank_info()
    check_run_directory(cfg)
    barrier(info)
    identity = model_provenance(cfg.model)
    previous_model = _previous_model(cfg.out, identity)
    loader = ModelLoader(cfg.model, cfg.device)
    manifest: dict[str, Any] = {
        "config": cfg.raw, "config_file": str(cfg.source) if cfg.source else None, "overrides": cfg.overrides,
        "model": previous_model or identity, "seed": cfg.seed, "data_root": str(cfg.data_root),
        "packages": package_versions(), "started": _now(), "finished": None, "force": force,
        "step_order": [step.name for step in cfg.steps], "steps": {},
    }
    clock = time.perf_counter()
    for step in cfg.steps:
        if info.rank != 0:
            run_step(step, cfg, loader, identity, force=force, progress=progress, rank=info)
            continue
        try:
            manifest["steps"][step.name] = run_step(step, cfg, loader, identity, force=force, progress=progress,
                                                    rank=info)
        except BaseException as error:
            manifest["steps"][step.name] = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
            manifest["model"] = loader.describe() or manifest["model"]
            write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
            raise
        manifest["model"] = loader.describe() or manifest["model"]
        write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
    if info.rank == 0:
        manifest["finished"] = _now()
        manifest["elapsed_s"] = round(time.perf_counter() - clock, 3)
        manifest["model_loaded"] = loader.loaded
        write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
    barrier(info)


def _model_entry(slug: str, model: dict[str, Any]) -> dict[str, Any]:
    return {"slug": slug, **model}


def _run_models(cfg: ExperimentConfig, force: bool, progress: bool) -> Run:
    """A multi-model run: every step per model into ``out/<slug>``, then each step's combined table and figure."""
    info = rank_info()
    check_run_directory(cfg)
    barrier(info)
    identities = {name: model_provenance(name) for name in cfg.models}
    manifest: dict[str, Any] = {
        "config": cfg.raw, "config_file": str(cfg.source) if cfg.source else None, "overrides": cfg.overrides,
        "models": [_model_entry(model_slug(name), identity) for name, identity in identities.items()],
        "seed": cfg.seed, "data_root": str(cfg.data_root), "packages": package_versions(), "started": _now(),
        "finished": None, "force": force, "step_order": [step.name for step in cfg.steps], "steps": {},
    }
    clock = time.perf_counter()
    runs: dict[str, Run] = {}
    for index, name in enumerate(cfg.models):
        sub = cfg.for_model(name)
        try:
            _run_one(sub, force, progress)
        except BaseException as error:
            if info.rank == 0:
                manifest["models"][index]["status"] = f"failed: {type(error).__name__}: {error}"
                write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
            raise
        if info.rank == 0:
            runs[name] = Run.load(sub.out)
            manifest["models"][index] = {**_model_entry(model_slug(name), runs[name].manifest["model"]),
                                         "status": "done", "model_loaded": runs[name].manifest["model_loaded"]}
            write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
    if info.rank == 0:
        for step in cfg.steps:
            manifest["steps"][step.name] = combine_step(step, cfg, runs, force=force)
            write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
        manifest["finished"] = _now()
        manifest["elapsed_s"] = round(time.perf_counter() - clock, 3)
        write_json_atomic(cfg.out / RUN_MANIFEST, manifest)
    barrier(info)
    return Run.load(cfg.out)


def combine_tables(results: Mapping[str, StepResult], out: Path) -> None:
    """Each table the models' results have, stacked with a ``model`` column first, at the same path under ``out``.

    Examples
    --------
    >>> import tempfile
    >>> a, b, out = (Path(tempfile.mkdtemp()) for _ in range(3))
    >>> sizes = [(d / "t.csv").write_text(f"x\\n{v}\\n") for d, v in ((a, 1), (b, 2))]
    >>> parts = {"m1": StepResult("s", a, "done", files=["t.csv"]), "m2": StepResult("s", b, "done", files=["t.csv"])}
    >>> combine_tables(parts, out)
    >>> (out / "t.csv").read_text().splitlines()
    ['model,x', 'm1,1', 'm2,2']
    """
    names = list(dict.fromkeys(name for result in results.values() for name in result.table_names))
    for name in names:
        frames = []
        for model, result in results.items():
            if name in result.table_names:
                frame = result.table(name)
                frame.insert(0, "model", model)
                frames.append(frame)
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.concat(frames, ignore_index=True).to_csv(target, sep=TABLE_SUFFIXES[target.suffix], index=False)


def combine_step(step: StepConfig, config: ExperimentConfig, runs: Mapping[str, Run],
                 force: bool = False) -> dict[str, Any]:
    """One step of a multi-model run combined into ``out/compare/<step>``: its manifest entry.

    A step of an analysis :func:`~bertology.experiments.compare.compare` knows is saved as
    a :class:`~bertology.experiments.compare.Comparison` of the models' stored results
    with its figure; any other step's tables are stacked with a ``model`` column (see
    :func:`combine_tables`). The combination is reused while every model's step is.

    Parameters
    ----------
    step
        The validated step.
    config
        The multi-model experiment.
    runs
        ``{model name: Run}`` of each model's finished run.
    force
        Redo the combination.

    Returns
    -------
    dict
        ``status`` (``done``, ``cached`` or ``skipped`` when no model has results), ``key``,
        each model's status in ``models``, times.
    """
    kind = step.spec.name
    directory = config.out / COMPARE_DIR / step.name
    parts = {name: run.results.get(step.name) for name, run in runs.items()}
    finished = {name: part for name, part in parts.items() if part is not None and part.status in ("done", "cached")}
    key = content_hash({"step": step.name, "kind": kind, "finished": sorted(finished),
                        "models": {name: run.manifest["steps"].get(step.name, {}).get("key")
                                   for name, run in runs.items()}})
    entry: dict[str, Any] = {"kind": kind, "key": key, "params": step.params,
                             "models": {name: part.status if part else "missing" for name, part in parts.items()}}
    marker = read_marker(directory)
    if not force and _reusable(marker, key, directory):
        if marker["status"] == "done" and missing_files(directory, list(marker.get(FIGURES_DIR, []))):
            write_marker(directory, {**marker, FIGURES_DIR: combined_figures(kind, directory)})
        status = "cached" if marker["status"] == "done" else "skipped"
        return {**entry, "status": status, "reason": marker.get("reason", ""), "cached": True, "elapsed_s": 0.0}
    if directory.exists():
        _remove_step_dir(directory, config.out / COMPARE_DIR)
    started, clock = _now(), time.perf_counter()
    if not finished:
        reason = "skipped: no model has results; " + "; ".join(
            f"{name}: {part.reason if part else 'missing'}" for name, part in parts.items())
        write_marker(directory, {"status": "skipped", "key": key, "reason": reason, "files": [], FIGURES_DIR: [],
                                 "started": started, "finished": _now()})
        return {**entry, "status": "skipped", "reason": reason, "cached": False, "started": started,
                "finished": _now(), "elapsed_s": round(time.perf_counter() - clock, 3)}
    directory.mkdir(parents=True, exist_ok=True)
    if combinable(kind):
        stored = {name: ANALYSES[kind].stored(part.directory) for name, part in finished.items()}
        comparison_from_results(kind, stored, {name: runs[name].manifest["model"] for name in finished},
                                step.params).save(directory)
    else:
        combine_tables(finished, directory)
    figures = combined_figures(kind, directory)
    files = result_files(directory)
    finished_at = _now()
    elapsed = round(time.perf_counter() - clock, 3)
    write_marker(directory, {"status": "done", "key": key, "files": files, "sizes": file_sizes(directory, files),
                             FIGURES_DIR: figures, "started": started, "finished": finished_at, "elapsed_s": elapsed})
    return {**entry, "status": "done", "reason": "", "cached": False, "started": started, "finished": finished_at,
            "elapsed_s": elapsed}
