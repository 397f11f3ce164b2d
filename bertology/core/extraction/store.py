"""ActivationStore: one ``.npy`` array per layer on disk, written row by row, read memory-mapped."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bertology.core.errors import StoreError
from bertology.core.io import write_json_atomic
from bertology.core.manifest import content_hash

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
LOCK = "writer.lock"
PROGRESS_GLOB = "progress-*.json"
DTYPES = {"float32": np.float32, "float16": np.float16}
REBUILD = "run the same extraction again with overwrite=True (CLI: --overwrite) to rebuild the store"
CHUNK_BYTES = 1 << 24
LOCK_SETTLE_S = 5.0


def _layer_file(layer: int) -> str:
    return f"layer_{layer:02d}.npy"


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _manifest_problem(manifest: object) -> str | None:
    """What makes ``manifest`` unusable as a store manifest, or ``None``."""
    if not isinstance(manifest, dict):
        return "it is not a JSON object"
    request, model = manifest.get("request"), manifest.get("model")
    if not isinstance(request, dict) or not isinstance(model, dict):
        return "it lacks the 'request' or 'model' entry"
    layers = request.get("layers")
    if not isinstance(layers, list) or not layers or not all(_is_index(k) for k in layers):
        return f"request.layers is {layers!r}, not a list of layer indices"
    n_items = request.get("n_items")
    if not _is_index(n_items) or not n_items:
        return f"request.n_items is {n_items!r}, not a positive count"
    if request.get("dtype") not in DTYPES or not isinstance(request.get("pool"), str):
        return "request.dtype or request.pool is missing or unknown"
    if not _is_index(model.get("num_layers")) or not _is_index(model.get("hidden_size")):
        return "model.num_layers or model.hidden_size is missing"
    skipped = manifest.get("skipped", {})
    if not isinstance(skipped, dict) or not all(k.isdigit() and int(k) < n_items for k in skipped):
        return "skipped does not map item indices to reasons"
    if not isinstance(manifest.get("complete", False), bool) or not isinstance(manifest.get("checksums", {}), dict):
        return "complete or checksums has the wrong type"
    return None


def _manifest_hash(manifest: Mapping[str, Any]) -> str:
    return content_hash({key: value for key, value in manifest.items() if key != "checksums"})


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a store, checked: readable JSON, the entries a store needs, unchanged since completion."""
    try:
        text = path.read_text(encoding="utf-8")
        manifest = json.loads(text) if text.strip() else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoreError(f"{path} is damaged (it cannot be read as JSON: {error}): {REBUILD}.") from None
    problem = "it is empty" if manifest is None else _manifest_problem(manifest)
    if problem:
        raise StoreError(f"{path} is damaged ({problem}): {REBUILD}.")
    checksums = manifest.get("checksums")
    if checksums is not None and checksums.get(MANIFEST) != _manifest_hash(manifest):
        raise StoreError(f"{path} was changed after the extraction finished (it no longer matches the checksum "
                         f"recorded in it): {REBUILD}.")
    return manifest


def _open_layer(path: Path, shape: tuple[int, int], dtype: np.dtype) -> np.memmap:
    """The layer file memory-mapped, or a StoreError naming it when it is missing, cut or of another shape."""
    try:
        array = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        raise StoreError(f"{path} is missing: {REBUILD}.") from None
    except (OSError, ValueError, EOFError) as error:
        raise StoreError(f"{path} is damaged ({error}): {REBUILD}.") from None
    if not isinstance(array, np.memmap) or array.shape != shape or array.dtype != dtype:
        found = f"{array.shape} {array.dtype}" if isinstance(array, np.ndarray) else "not a .npy array"
        raise StoreError(f"{path} holds {found}, expected {shape} {np.dtype(dtype)}: {REBUILD}.")
    return array


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks of :data:`CHUNK_BYTES`."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class ActivationStore(Mapping[int, np.ndarray]):
    """Pooled activations on disk: ``store[layer]`` is an ``(items, hidden)`` memory-mapped array.

    Layers are Hugging Face hidden-state indices (0 = embeddings, ``L`` = last layer;
    negative indices count from the end). Rows follow the input order. Items skipped
    during extraction are zero rows with ``store.valid[i] == False``. A finished store's
    manifest records a SHA-256 checksum of itself and of every layer file;
    :meth:`verify` checks them.

    Parameters
    ----------
    directory
        A directory written by :func:`bertology.extract`.

    Raises
    ------
    StoreError
        When the directory holds no store or its manifest is damaged or edited.

    Examples
    --------
    >>> import bertology as bt
    >>> store = bt.extract(bt.load_model("minilm"), ["A first text.", "A second one."], layers=[0, 6],
    ...                    progress=False)
    >>> store[6].shape, store.layers
    ((2, 384), [0, 6])
    >>> store.verify()
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST
        if not manifest_path.exists():
            raise StoreError(f"{self.directory} is not an activation store (no {MANIFEST}).")
        self.manifest: dict[str, Any] = _read_manifest(manifest_path)

    @property
    def layers(self) -> list[int]:
        """Hidden-state indices held by the store."""
        return list(self.manifest["request"]["layers"])

    @property
    def complete(self) -> bool:
        """Whether every batch was written."""
        return bool(self.manifest.get("complete", False))

    @property
    def valid(self) -> np.ndarray:
        """``(items,)`` bool: ``False`` for items skipped during extraction."""
        mask = np.ones(self.manifest["request"]["n_items"], dtype=bool)
        mask[[int(i) for i in self.skipped]] = False
        return mask

    @property
    def skipped(self) -> dict[str, str]:
        """``{item index: reason}`` for skipped items."""
        return dict(self.manifest.get("skipped", {}))

    def _key(self, layer: int) -> int:
        layers = self.layers
        total = self.manifest["model"]["num_layers"] + 1
        resolved = layer % total if -total <= layer < total else layer
        if resolved not in layers:
            raise KeyError(f"Layer {layer} is not in this store; it holds layers {layers}.")
        return resolved

    def _open(self, layer: int) -> np.memmap:
        request = self.manifest["request"]
        shape = (request["n_items"], self.manifest["model"]["hidden_size"])
        return _open_layer(self.directory / _layer_file(layer), shape, np.dtype(DTYPES[request["dtype"]]))

    def _require_complete(self) -> None:
        if not self.complete:
            raise StoreError(f"The store at {self.directory} is incomplete (interrupted extraction): "
                             "run the same extraction again to finish it.")

    def __getitem__(self, layer: int) -> np.ndarray:
        self._require_complete()
        return self._open(self._key(layer))

    def verify(self) -> None:
        """Check that the store is complete and every file is the one written when it finished.

        Reads every layer file once and compares its SHA-256 with the checksum the
        manifest recorded at completion.

        Raises
        ------
        StoreError
            Naming the first file that is missing, cut, changed, or has no recorded checksum.

        Examples
        --------
        >>> import bertology as bt
        >>> store = bt.extract(bt.load_model("minilm"), ["Checked."], layers=[1], progress=False)
        >>> store.verify()
        >>> with open(store.directory / "layer_01.npy", "r+b") as handle:
        ...     _ = handle.seek(-4, 2); _ = handle.write(b"\\xff" * 4)
        >>> store.verify()  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        bertology.core.errors.StoreError: .../layer_01.npy changed after the extraction finished ...
        """
        self._require_complete()
        checksums = self.manifest.get("checksums", {})
        for layer in self.layers:
            path = self.directory / _layer_file(layer)
            self._open(layer)
            recorded = checksums.get(path.name)
            if recorded is None:
                raise StoreError(f"{self.directory / MANIFEST} records no checksum of {path.name} (the store was "
                                 f"written by an older bertology): {REBUILD}.")
            if _file_sha256(path) != recorded:
                raise StoreError(f"{path} changed after the extraction finished (its SHA-256 differs from the one "
                                 f"in {MANIFEST}): {REBUILD}.")

    def __iter__(self) -> Iterator[int]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        request = self.manifest["request"]
        return (f"ActivationStore({str(self.directory)!r}, items={request['n_items']}, layers={self.layers}, "
                f"pool={request['pool']!r}, complete={self.complete})")


def _read_holder(path: Path) -> dict[str, Any] | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if isinstance(holder, dict) and _is_index(holder.get("pid")) and isinstance(holder.get("host"), str):
        return holder
    return None


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLock:
    """The advisory lock of a store's one writer: ``writer.lock`` holding the writer's pid and host.

    A second writer is refused while the holder runs. A lock whose process has ended
    (same host, pid no longer running) is stale and taken over. A lock from another
    host is always respected, since its process cannot be checked from here.

    Parameters
    ----------
    directory
        The store directory (must exist).

    Examples
    --------
    >>> import tempfile
    >>> lock = StoreLock(Path(tempfile.mkdtemp()))
    >>> lock.acquire(); lock.holder()["pid"] == os.getpid()
    True
    >>> StoreLock(lock.path.parent).acquire()  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.StoreError: ... is being written by another process (pid ...
    >>> lock.release(); lock.path.exists()
    False
    """

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK
        self.held = False

    def holder(self) -> dict[str, Any] | None:
        """``{"pid", "host", "since"}`` of the lock's holder; ``None`` when there is no lock or it cannot be read."""
        return _read_holder(self.path)

    def _stale(self, holder: dict[str, Any] | None) -> bool:
        if holder is None:
            try:
                return time.time() - self.path.stat().st_mtime > LOCK_SETTLE_S
            except FileNotFoundError:
                return True
        return holder["host"] == socket.gethostname() and holder["pid"] > 0 and not _pid_running(holder["pid"])

    def acquire(self) -> None:
        """Take the lock, taking over a stale one.

        Raises
        ------
        StoreError
            While another running process holds it; the message names the process and the fix.
        """
        for _ in range(3):
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if not self._stale(holder):
                    self._refuse(holder)
                self._break(holder)
                continue
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, handle)
            self.held = True
            return
        self._refuse(self.holder())

    def _break(self, holder: dict[str, Any] | None) -> None:
        """Remove a stale lock, unless another process replaced it meanwhile (then it is put back)."""
        aside = self.path.with_name(f".{LOCK}.{os.getpid()}.stale")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        if _read_holder(aside) != holder:
            os.replace(aside, self.path)
            self._refuse(self.holder())
        aside.unlink()
        logger.warning("Took over the lock of %s from %s, which is no longer running.", self.path.parent,
                       f"pid {holder['pid']}" if holder else "an unreadable lock file")

    def _refuse(self, holder: dict[str, Any] | None) -> None:
        who = f"pid {holder['pid']} on {holder['host']}" if holder else "a process that is starting"
        raise StoreError(f"{self.path.parent} is being written by another process ({who}, lock file {self.path}): "
                         "wait for it to finish or write to another directory; if no extraction is running "
                         f"there, delete {self.path}.")

    def release(self) -> None:
        """Remove the lock if this object holds it."""
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def _progress_file(rank: int) -> str:
    return f"progress-{rank:03d}.json"


def _read_progress(path: Path) -> set[int]:
    try:
        batches = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        batches = None
    if not isinstance(batches, list) or not all(_is_index(b) for b in batches):
        raise StoreError(f"{path} is damaged (it must be a JSON list of finished batch numbers): delete it to "
                         f"extract its batches again, or {REBUILD}.")
    return set(batches)


class StoreWriter:
    """Create or resume a store; write batches of rows; record finished batches atomically.

    Several processes (ranks) may write one store at once: each writes disjoint rows of
    the same preallocated files and records its finished batches in its own progress
    file; the batches already done are the union of those files. The creating process
    (rank 0) holds the store's :class:`StoreLock` until :meth:`finish` or :meth:`release`,
    so a second extraction into the same directory is refused while it runs.

    Resuming checks what is on disk: a missing or cut layer file, a damaged manifest or
    progress file is a :class:`~bertology.core.errors.StoreError` naming the file (or,
    with ``overwrite``, a rebuilt store), and a finished store must pass
    :meth:`ActivationStore.verify`.

    Parameters
    ----------
    directory
        Target directory (created if missing).
    manifest
        Full manifest; its ``request`` entry decides whether an existing store matches.
    hidden_size
        Width of each row.
    overwrite
        Replace a store whose request differs, or that is damaged, instead of refusing.
    rank
        The writing process's rank (its progress file).
    create
        ``False`` for ranks that open a store another rank has just created (and locked).
    """

    def __init__(self, directory: str | Path, manifest: dict[str, Any], hidden_size: int,
                 overwrite: bool = False, rank: int = 0, create: bool = True) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        request = manifest["request"]
        self.layers = list(request["layers"])
        self.n_items = int(request["n_items"])
        self.dtype = np.dtype(DTYPES[request["dtype"]])
        self.row_bytes = hidden_size * self.dtype.itemsize
        self.hidden_size = hidden_size
        self.rank = rank
        self.done: set[int] = set()
        self.mine: set[int] = set()
        self.verified = False
        self._handles: dict[int, BinaryIO] = {}
        self.lock = StoreLock(self.directory)
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        try:
            self._open_or_create(manifest, overwrite, create)
        except BaseException:
            self.lock.release()
            raise

    def _open_or_create(self, manifest: dict[str, Any], overwrite: bool, create: bool) -> None:
        request = manifest["request"]
        existing = self.directory / MANIFEST
        if existing.exists():
            try:
                stored = _read_manifest(existing)
                if stored["request"] == request:
                    self._resume(stored, manifest, verify=create)
                    return
            except StoreError:
                if not (overwrite and create):
                    raise
            else:
                if not create:
                    raise StoreError(f"Rank {self.rank} found no store matching its request at {self.directory}: "
                                     "every rank must run the same command on the same input.")
                if not overwrite:
                    differing = sorted(key for key in set(request) | set(stored["request"])
                                       if request.get(key) != stored["request"].get(key))
                    raise StoreError(
                        f"{self.directory} already holds a store made with a different request (differs in: "
                        f"{', '.join(differing)}). Choose another output directory, or pass overwrite=True "
                        "(CLI: --overwrite) to replace it."
                    )
            for stale in [*self.directory.glob("layer_*.npy"), *self.directory.glob(PROGRESS_GLOB)]:
                stale.unlink()
        elif not create:
            raise StoreError(f"Rank {self.rank} found no store at {self.directory}: every rank must run the same "
                             "command on the same input.")
        for layer in self.layers:
            np.lib.format.open_memmap(self.directory / _layer_file(layer), mode="w+", dtype=self.dtype,
                                      shape=(self.n_items, self.hidden_size)).flush()
        self._offsets = {k: self._header_offset(k) for k in self.layers}
        self.manifest["complete"] = False
        write_json_atomic(existing, self.manifest)

    def _resume(self, stored: dict[str, Any], manifest: dict[str, Any], verify: bool) -> None:
        self._offsets = {k: self._header_offset(k) for k in self.layers}
        if verify and stored.get("complete"):
            ActivationStore(self.directory).verify()
            self.verified = True
        for progress in sorted(self.directory.glob(PROGRESS_GLOB)):
            self.done.update(_read_progress(progress))
        own = self.directory / _progress_file(self.rank)
        self.mine = _read_progress(own) if own.exists() else set()
        self.manifest = {**stored, **{k: v for k, v in manifest.items() if k not in ("created", "request")}}

    def _header_offset(self, layer: int) -> int:
        shape = (self.n_items, self.hidden_size)
        return int(_open_layer(self.directory / _layer_file(layer), shape, self.dtype).offset)

    def forget_unwritten(self, batches: Mapping[int, np.ndarray], skipped: Collection[int]) -> list[int]:
        """Drop from :attr:`done` the batches whose rows are still zero in a layer file, so they are redone.

        A progress file says which batches were written, but the rows are the proof: a
        batch listed there whose rows (items skipped at extraction aside) are all-zero
        vectors in some layer was never written to these files. A verified finished
        store is trusted as it is.

        Parameters
        ----------
        batches
            ``{batch id: item indices}`` of the batches to check (those this process writes).
        skipped
            Items skipped at extraction (their rows are zero by design).

        Returns
        -------
        list of int
            The batch ids dropped.
        """
        claimed = sorted(b for b in self.done if b in batches)
        if self.verified or not claimed:
            return []
        rows = np.concatenate([batches[b] for b in claimed]).astype(np.int64)
        owner = np.repeat(np.asarray(claimed), [len(batches[b]) for b in claimed])
        keep = ~np.isin(rows, np.fromiter(skipped, dtype=np.int64, count=len(skipped)))
        order = np.argsort(rows[keep], kind="stable")
        rows, owner = rows[keep][order], owner[keep][order]
        zero = np.zeros(len(rows), dtype=bool)
        step = max(1, CHUNK_BYTES // self.row_bytes)
        for layer in self.layers:
            array = _open_layer(self.directory / _layer_file(layer), (self.n_items, self.hidden_size), self.dtype)
            for start in range(0, len(rows), step):
                zero[start:start + step] |= ~array[rows[start:start + step]].any(axis=1)
        dropped = sorted(set(owner[zero].tolist()))
        if dropped:
            logger.warning("%s: the progress files list %d batches whose rows are empty; extracting them again.",
                           self.directory, len(dropped))
            self.done.difference_update(dropped)
            self.mine.difference_update(dropped)
        return dropped

    def write_batch(self, batch_id: int, rows: np.ndarray, values: Mapping[int, np.ndarray]) -> None:
        """Write one batch: ``values[layer]`` is ``(len(rows), hidden)``, placed at ``rows``.

        The batch counts as done only after every layer's rows are written.
        """
        order = np.argsort(rows)
        sorted_rows = rows[order].tolist()
        for layer in self.layers:
            block = np.ascontiguousarray(values[layer][order], dtype=self.dtype)
            handle, offset = self._handle(layer), self._offsets[layer]
            for row, data in zip(sorted_rows, block):
                handle.seek(offset + row * self.row_bytes)
                handle.write(data)
        self.done.add(int(batch_id))
        self.mine.add(int(batch_id))
        write_json_atomic(self.directory / _progress_file(self.rank), sorted(self.mine), durable=False)

    def _handle(self, layer: int) -> BinaryIO:
        if layer not in self._handles:
            self._handles[layer] = open(self.directory / _layer_file(layer), "r+b", buffering=0)
        return self._handles[layer]

    def close(self) -> None:
        """Close the layer files; every row written so far is already in them."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def release(self) -> None:
        """Close the files and give up the store's lock (a no-op for ranks that do not hold it)."""
        self.close()
        self.lock.release()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finish(self, extra: Mapping[str, Any]) -> None:
        """Close the files, add ``extra`` and the checksums to the manifest, mark the store complete, unlock it."""
        self.close()
        self.manifest.update(extra)
        self.manifest["complete"] = True
        self.manifest.pop("checksums", None)
        manifest = json.loads(json.dumps(self.manifest, default=str))
        checksums = {_layer_file(k): _file_sha256(self.directory / _layer_file(k)) for k in self.layers}
        manifest["checksums"] = {**checksums, MANIFEST: _manifest_hash(manifest)}
        self.manifest = manifest
        write_json_atomic(self.directory / MANIFEST, manifest)
        self.lock.release()
