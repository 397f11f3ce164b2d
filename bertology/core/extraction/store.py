"""ActivationStore: one ``.npy`` array per layer on disk, written row by row, read memory-mapped."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from bertology.core.errors import StoreError
from bertology.core.io import write_json_atomic

MANIFEST = "manifest.json"
PROGRESS_GLOB = "progress-*.json"
DTYPES = {"float32": np.float32, "float16": np.float16}


def _layer_file(layer: int) -> str:
    return f"layer_{layer:02d}.npy"


class ActivationStore(Mapping[int, np.ndarray]):
    """Pooled activations on disk: ``store[layer]`` is an ``(items, hidden)`` memory-mapped array.

    Layers are Hugging Face hidden-state indices (0 = embeddings, ``L`` = last layer;
    negative indices count from the end). Rows follow the input order. Items skipped
    during extraction are zero rows with ``store.valid[i] == False``.

    Parameters
    ----------
    directory
        A directory written by :func:`bertology.extract`.

    Examples
    --------
    >>> import bertology as bt
    >>> store = bt.extract(bt.load_model("minilm"), ["A first text.", "A second one."], layers=[0, 6],
    ...                    progress=False)
    >>> store[6].shape, store.layers
    ((2, 384), [0, 6])
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST
        if not manifest_path.exists():
            raise StoreError(f"{self.directory} is not an activation store (no {MANIFEST}).")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))

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

    def __getitem__(self, layer: int) -> np.ndarray:
        if not self.complete:
            raise StoreError(f"The store at {self.directory} is incomplete (interrupted extraction): "
                             "run the same extraction again to finish it.")
        return np.load(self.directory / _layer_file(self._key(layer)), mmap_mode="r")

    def __iter__(self) -> Iterator[int]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        request = self.manifest["request"]
        return (f"ActivationStore({str(self.directory)!r}, items={request['n_items']}, layers={self.layers}, "
                f"pool={request['pool']!r}, complete={self.complete})")


def _progress_file(rank: int) -> str:
    return f"progress-{rank:03d}.json"


class StoreWriter:
    """Create or resume a store; write batches of rows; record finished batches atomically.

    Several processes (ranks) may write one store at once: each writes disjoint rows of
    the same preallocated files and records its finished batches in its own progress
    file; the batches already done are the union of those files.

    Parameters
    ----------
    directory
        Target directory (created if missing).
    manifest
        Full manifest; its ``request`` entry decides whether an existing store matches.
    hidden_size
        Width of each row.
    overwrite
        Replace a store whose request differs instead of refusing.
    rank
        The writing process's rank (its progress file).
    create
        ``False`` for ranks that open a store another rank has just created.
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
        self._handles: dict[int, BinaryIO] = {}
        existing = self.directory / MANIFEST
        if existing.exists():
            stored = json.loads(existing.read_text(encoding="utf-8"))
            if stored.get("request") == request and all((self.directory / _layer_file(k)).exists()
                                                        for k in self.layers):
                for progress in self.directory.glob(PROGRESS_GLOB):
                    self.done.update(json.loads(progress.read_text()))
                own = self.directory / _progress_file(rank)
                self.mine = set(json.loads(own.read_text())) if own.exists() else set()
                self.manifest = {**stored, **{k: v for k, v in manifest.items() if k not in ("created", "request")}}
                self._offsets = {k: self._header_offset(k) for k in self.layers}
                return
            if not create:
                raise StoreError(f"Rank {rank} found no store matching its request at {self.directory}: every rank "
                                 "must run the same command on the same input.")
            if not overwrite:
                differing = sorted(key for key in set(request) | set(stored.get("request", {}))
                                   if request.get(key) != stored.get("request", {}).get(key))
                raise StoreError(
                    f"{self.directory} already holds a store made with a different request (differs in: "
                    f"{', '.join(differing) or 'files'}). Choose another output directory, or pass overwrite=True "
                    "(CLI: --overwrite) to replace it."
                )
            for stale in [*self.directory.glob("layer_*.npy"), *self.directory.glob(PROGRESS_GLOB)]:
                stale.unlink()
        self.directory.mkdir(parents=True, exist_ok=True)
        for layer in self.layers:
            np.lib.format.open_memmap(self.directory / _layer_file(layer), mode="w+", dtype=self.dtype,
                                      shape=(self.n_items, hidden_size)).flush()
        self._offsets = {k: self._header_offset(k) for k in self.layers}
        self.manifest["complete"] = False
        write_json_atomic(existing, self.manifest)

    def _header_offset(self, layer: int) -> int:
        array = np.load(self.directory / _layer_file(layer), mmap_mode="r")
        if array.shape != (self.n_items, self.hidden_size) or array.dtype != self.dtype:
            raise StoreError(f"{self.directory / _layer_file(layer)} has shape {array.shape} {array.dtype}, "
                             f"expected ({self.n_items}, {self.hidden_size}) {self.dtype}: pass overwrite=True.")
        return int(array.offset)

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

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def finish(self, extra: Mapping[str, Any]) -> None:
        """Close the files, add ``extra`` to the manifest and mark the store complete."""
        self.close()
        self.manifest.update(extra)
        self.manifest["complete"] = True
        write_json_atomic(self.directory / MANIFEST, self.manifest)
