"""What head importance and pruning differentiate and score: a classifier's cross-entropy, the MLM loss, a cloze
suite's good-vs-bad contrast, or a callable.

An :class:`Objective` tokenizes the data once into padded batches (masked positions for the
MLM loss are drawn once, seeded) and runs them under any head gates, returning per-example
losses and, where defined, per-example accuracies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bertology.core.data.cloze_suites import MASK_MARKER, load_suite
from bertology.core.errors import InputError
from bertology.core.extraction.align import encode_corpus, length_sorted_batches, pad_sequences
from bertology.core.hooks import gate_heads, intervene
from bertology.core.models import LoadedModel
from bertology.core.models.mlm import mlm_log_probs

LossFn = Callable[[list[str]], torch.Tensor]
LOSSES = ("classifier", "mlm", "cloze")


@dataclass
class Batch:
    """One padded batch: model inputs, the rows of the data it holds and its real-token count."""

    rows: np.ndarray
    inputs: dict[str, torch.Tensor]
    n_tokens: int
    texts: list[str]
    targets: torch.Tensor | None = None
    positions: torch.Tensor | None = None


def _is_classifier(model: Any) -> bool:
    return isinstance(model, nn.Module) and hasattr(model, "encode") and hasattr(model, "label_index")


def _hf_model(model: Any) -> nn.Module:
    if isinstance(model, LoadedModel):
        return model.model
    for module in model.modules():
        if hasattr(module, "config") and hasattr(module, "base_model"):
            return module
    raise InputError("Head gates need a model with attention heads: a bertology LoadedModel, a Classifier built "
                     "on one, or a Hugging Face model.")


def texts_and_labels(data: Any, labels: Sequence[Any] | np.ndarray | None,
                     loss: str | LossFn = "classifier") -> tuple[list[str], np.ndarray | None]:
    """Sentences and labels from a list of texts (plus ``labels``), a labelled dataset, or a cloze suite.

    Parameters
    ----------
    data
        A list of sentences, or an object with ``texts`` and ``labels`` (a
        :class:`~bertology.core.data.ProbeDataset`); for ``loss="cloze"`` a choice suite's
        name or JSONL file (see :mod:`bertology.core.data.cloze_suites`), or its templates
        with ``labels``.
    labels
        Per-text class labels (names or indices) when ``data`` is a list; ``None`` for none.
    loss
        The loss the data are for; ``"cloze"`` reads a suite: its templates are the texts
        and each label is the item's candidates, the correct one first.

    Returns
    -------
    tuple
        ``(texts, labels or None)``.

    Raises
    ------
    InputError
        Empty data, a string instead of a list, or a label count that differs from the text count.

    Examples
    --------
    >>> texts_and_labels(["a", "b"], [1, 0])
    (['a', 'b'], array([1, 0], dtype=object))
    >>> texts, labels = texts_and_labels("agreement", None, loss="cloze")
    >>> texts[0], labels[0]
    ('The boy [MASK] here.', ('is', 'are'))
    """
    if loss == "cloze" and isinstance(data, (str, Path)):
        return _suite_items(data)
    if hasattr(data, "texts") and hasattr(data, "labels"):
        texts, found = list(data.texts), np.asarray(data.labels)
        if labels is None:
            labels = found
    else:
        if isinstance(data, str):
            raise InputError("Pass a list of sentences, not one string: wrap it as [text].")
        texts = list(data)
    if not texts or not all(isinstance(text, str) and text.strip() for text in texts):
        raise InputError("Head importance needs a non-empty list of non-empty sentences.")
    if labels is None:
        return texts, None
    labels = _object_array(labels)
    if len(labels) != len(texts):
        raise InputError(f"Got {len(labels)} labels for {len(texts)} sentences: give one label per sentence.")
    return texts, labels


def _object_array(values: Sequence[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (tuples stay elements, not rows)."""
    array = np.empty(len(values), dtype=object)
    array[:] = list(values)
    return array


def _suite_items(suite: str | Path) -> tuple[list[str], np.ndarray]:
    name, kind, items = load_suite(suite)
    if kind != "choice":
        raise InputError(f"Suite {name!r} is a bias suite; loss='cloze' contrasts a correct candidate with wrong "
                         "ones: use a choice suite (agreement, pronoun, telicity, color) or a JSONL file in that "
                         "schema.")
    labels = _object_array([(item["correct"], *(c for c in item["candidates"] if c != item["correct"]))
                            for item in items])
    return [item["template"] for item in items], labels


class Objective:
    """Per-example losses (and accuracies) of a model on fixed data, under head gates.

    Parameters
    ----------
    model
        A ``Classifier`` or a LoadedModel with ``head="classifier"`` (``loss="classifier"``),
        a LoadedModel with ``head="mlm"``
        (``loss="mlm"`` or ``"cloze"``), or any LoadedModel / Hugging Face model for a callable loss.
    texts
        Sentences.
    loss
        ``"classifier"``, ``"mlm"``, ``"cloze"`` (a choice suite's contrast: the
        cross-entropy of the correct candidate among the item's candidates at ``[MASK]``,
        ``−log(P(good) / Σ_c P(c))``, which for two candidates is
        ``log(1 + P(bad) / P(good))``; accuracy is the suite's, Goldberg 2019) or a callable
        ``texts -> (batch,)`` per-example losses that runs the model itself.
    labels
        Class labels (names or indices) for ``"classifier"``, ``None`` taking the
        unpruned model's own predictions; for ``"cloze"`` each item's candidates, the
        correct one first (see :func:`texts_and_labels`).
    batch_size
        Sentences per forward pass.
    mask_prob
        Share of each sentence's non-special tokens masked for ``"mlm"`` (at least one).
    seed
        Seed of the masked positions.
    """

    def __init__(self, model: Any, texts: list[str], loss: str | LossFn, labels: np.ndarray | None = None,
                 batch_size: int = 32, mask_prob: float = 0.15, seed: int = 0) -> None:
        if batch_size < 1:
            raise InputError(f"batch_size={batch_size} must be at least 1.")
        if not 0 < mask_prob <= 1:
            raise InputError(f"mask_prob={mask_prob} must be in (0, 1].")
        self.model = model
        self.loss = loss
        self.texts = texts
        self.hf_model = _hf_model(model)
        self.num_layers = int(self.hf_model.config.num_hidden_layers)
        self.num_heads = int(self.hf_model.config.num_attention_heads)
        if callable(loss):
            self.kind = "callable"
            self.batches = [Batch(np.arange(i, min(i + batch_size, len(texts))), {}, 0, texts[i:i + batch_size])
                            for i in range(0, len(texts), batch_size)]
            return
        if loss not in LOSSES:
            raise InputError(f"loss={loss!r} is not a head-importance loss: use 'classifier', 'mlm' or a callable "
                             "texts -> per-example losses.")
        self.kind = loss
        if loss == "classifier":
            fine_tuned = isinstance(model, LoadedModel) and model.head == "classifier"
            if not _is_classifier(model) and not fine_tuned:
                raise InputError("loss='classifier' needs a Classifier (bt.Classifier.from_pretrained(...) or "
                                 "bt.Classifier.from_probe(...)) or a model loaded with head='classifier'; for an "
                                 "encoder with an MLM head use loss='mlm'.")
            self.batches = self._classifier_batches(batch_size)
            self._set_targets(labels)
        else:
            if not isinstance(model, LoadedModel) or model.head != "mlm":
                raise InputError(f"loss={loss!r} needs a model loaded with a masked-LM head: "
                                 "bt.load_model(name, head='mlm').")
            self.batches = (self._cloze_batches(batch_size, labels) if loss == "cloze" else
                            self._mlm_batches(batch_size, mask_prob, seed))

    @property
    def device(self) -> torch.device:
        """Device of the gated model."""
        return next(self.hf_model.parameters()).device

    def _classifier_batches(self, batch_size: int) -> list[Batch]:
        model = self.model
        if isinstance(model, LoadedModel):
            ids = encode_corpus(model.tokenizer, self.texts, model.max_length, truncate=True).input_ids
        else:
            ids = model.encode(self.texts)
        pad = model.tokenizer.pad_token_id if model.tokenizer.pad_token_id is not None else 0
        batches = []
        for rows in length_sorted_batches(np.array([len(i) for i in ids]), batch_size):
            input_ids, mask = pad_sequences([ids[row] for row in rows], pad)
            batches.append(Batch(rows, {"input_ids": input_ids.to(self.device),
                                        "attention_mask": mask.long().to(self.device)},
                                 int(mask.sum()), [self.texts[row] for row in rows]))
        return batches

    def _logits(self, batch: Batch) -> torch.Tensor:
        if isinstance(self.model, LoadedModel):
            return self.model.model(**batch.inputs).logits
        return self.model(**batch.inputs)

    def _label_index(self, label: Any) -> int:
        label = label.item() if isinstance(label, np.generic) else label
        if not isinstance(self.model, LoadedModel):
            return self.model.label_index(label)
        names = [str(self.hf_model.config.id2label[i]) for i in range(self.hf_model.config.num_labels)]
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label < len(names):
            return int(label)
        lowered = [name.lower() for name in names]
        if str(label).lower() in lowered:
            return lowered.index(str(label).lower())
        raise InputError(f"Unknown label {label!r}: this classifier's labels are {names}; pass one of them or "
                         f"an index 0..{len(names) - 1}.")

    def _set_targets(self, labels: np.ndarray | None) -> None:
        if labels is None:
            with torch.inference_mode():
                for batch in self.batches:
                    batch.targets = self._logits(batch).argmax(-1)
            return
        index = np.array([self._label_index(label) for label in labels])
        for batch in self.batches:
            batch.targets = torch.as_tensor(index[batch.rows], device=self.device)

    def _mlm_batches(self, batch_size: int, mask_prob: float, seed: int) -> list[Batch]:
        model = self.model
        tokenizer = model.tokenizer
        corpus = encode_corpus(tokenizer, self.texts, model.max_length, truncate=True)
        rng = np.random.default_rng(seed)
        masked_ids, targets = [], []
        for ids, special in zip(corpus.input_ids, corpus.special_masks):
            content = np.flatnonzero(np.asarray(special) == 0)
            if not len(content):
                raise InputError("A sentence has no tokens besides special ones: remove empty sentences.")
            chosen = rng.choice(content, size=max(1, int(round(mask_prob * len(content)))), replace=False)
            row_ids, row_targets = list(ids), [-100] * len(ids)
            for position in chosen.tolist():
                row_targets[position] = ids[position]
                row_ids[position] = tokenizer.mask_token_id
            masked_ids.append(row_ids)
            targets.append(row_targets)
        batches = []
        for rows in length_sorted_batches(corpus.lengths, batch_size):
            input_ids, mask = pad_sequences([masked_ids[row] for row in rows], tokenizer.pad_token_id)
            target, _ = pad_sequences([targets[row] for row in rows], -100)
            inputs = {"input_ids": input_ids.to(self.device), "attention_mask": mask.long().to(self.device)}
            if model.adapter.uses_token_type_ids:
                inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
            batches.append(Batch(rows, inputs, int(mask.sum()), [self.texts[row] for row in rows],
                                 target.to(self.device)))
        return batches

    def _cloze_batches(self, batch_size: int, candidates: np.ndarray) -> list[Batch]:
        """Templates with the mask token written in, each item's mask position and candidate ids (correct first)."""
        tokenizer = self.model.tokenizer
        texts = [MASK_MARKER.sub(tokenizer.mask_token, text) for text in self.texts]
        corpus = encode_corpus(tokenizer, texts, self.model.max_length)
        ids = []
        for index, words in enumerate(candidates):
            pieces = [tokenizer.encode(" " + word.strip(), add_special_tokens=False) for word in words]
            several = [word for word, piece in zip(words, pieces) if len(piece) != 1]
            if several:
                raise InputError(f"Item {index} ({self.texts[index]!r}): candidates {several} are not one token of "
                                 f"{self.model.name}'s vocabulary; the cloze loss reads one position: use "
                                 "single-token candidates.")
            ids.append([piece[0] for piece in pieces])
        width = max(len(row) for row in ids)
        batches = []
        for rows in length_sorted_batches(corpus.lengths, batch_size):
            input_ids, mask = pad_sequences([corpus.input_ids[row] for row in rows], tokenizer.pad_token_id)
            positions = (input_ids == tokenizer.mask_token_id).long().argmax(1)
            candidate_ids = torch.tensor([ids[row] + [-1] * (width - len(ids[row])) for row in rows])
            inputs = {"input_ids": input_ids.to(self.device), "attention_mask": mask.long().to(self.device)}
            if self.model.adapter.uses_token_type_ids:
                inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
            batches.append(Batch(rows, inputs, int(mask.sum()), [self.texts[row] for row in rows],
                                 candidate_ids.to(self.device), positions.to(self.device)))
        return batches

    def run(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per-example losses ``(batch,)`` and accuracies ``(batch,)`` (``None`` for a callable loss)."""
        if self.kind == "callable":
            losses = self.loss(batch.texts)
            if not isinstance(losses, torch.Tensor) or losses.shape != (len(batch.texts),):
                got = tuple(losses.shape) if isinstance(losses, torch.Tensor) else type(losses).__name__
                raise InputError(f"The loss callable returned {got}; it must return one loss per sentence, "
                                 f"shape ({len(batch.texts)},).")
            return losses, None
        if self.kind == "classifier":
            logits = self._logits(batch)
            losses = torch.nn.functional.cross_entropy(logits.float(), batch.targets, reduction="none")
            return losses, (logits.argmax(-1) == batch.targets).float()
        if self.kind == "cloze":
            log_probs = mlm_log_probs(self.model, batch.inputs, batch.positions)
            scores = log_probs.gather(1, batch.targets.clamp(min=0)).masked_fill(batch.targets < 0, -torch.inf)
            return -torch.log_softmax(scores, dim=1)[:, 0], (scores.argmax(1) == 0).float()
        logits = self.model(**batch.inputs).logits
        chosen = batch.targets != -100
        log_probs = torch.log_softmax(logits[chosen].float(), dim=-1)
        picked = log_probs.gather(-1, batch.targets[chosen][:, None])[:, 0]
        row = chosen.nonzero()[:, 0]
        count = chosen.sum(1).to(picked.dtype)
        losses = torch.zeros(len(count), dtype=picked.dtype, device=picked.device).index_add(0, row, -picked) / count
        hits = (log_probs.argmax(-1) == batch.targets[chosen]).to(picked.dtype)
        accuracy = torch.zeros_like(losses).index_add(0, row, hits) / count
        return losses, accuracy

    def gated(self, gates: torch.Tensor):
        """Context in which the model runs with head gates ``gates`` (see :func:`~bertology.core.hooks.gate_heads`)."""
        return intervene(self.hf_model, {"layers.*.attn.heads": gate_heads(gates)})

    def score(self, mask: torch.Tensor, metric: str) -> float:
        """Mean ``metric`` (``"accuracy"`` or ``"loss"``) over the data with head mask ``mask`` ``(layers, heads)``."""
        total, count = 0.0, 0
        with torch.inference_mode(), self.gated(mask.to(self.device)):
            for batch in self.batches:
                losses, accuracy = self.run(batch)
                values = losses if metric == "loss" else accuracy
                total += float(values.double().sum())
                count += len(batch.rows)
        return total / count
