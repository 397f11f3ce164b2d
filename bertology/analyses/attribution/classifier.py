"""``Classifier``: one differentiable torch module (token ids -> class logits) + tokenizer + label names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from bertology.core.errors import InputError, ModelError
from bertology.core.extraction import (
    PoolingInputs,
    length_sorted_batches,
    pad_sequences,
    pool_layers,
    resolve_layers,
    resolve_pooling,
)
from bertology.core.hooks import hidden_state_name, trace
from bertology.core.models import LoadedModel, load_model


class _SequenceClassifierNet(nn.Module):
    """A Hugging Face ``...ForSequenceClassification`` model as ``(input_ids, attention_mask) -> logits``."""

    def __init__(self, loaded: LoadedModel) -> None:
        super().__init__()
        self.hf_model = loaded.model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.hf_model(input_ids=input_ids, attention_mask=attention_mask).logits


class _ProbeNet(nn.Module):
    """Frozen encoder, hidden state ``hidden_index`` pooled, then a linear probe: ``-> logits``."""

    def __init__(self, loaded: LoadedModel, weight: torch.Tensor, bias: torch.Tensor, hidden_index: int,
                 pool: str) -> None:
        super().__init__()
        self.loaded = loaded
        self.hf_model = loaded.model
        self.name = hidden_state_name(hidden_index, loaded.num_layers)
        self.pool = pool
        self.register_buffer("weight", weight)  # (classes, hidden)
        self.register_buffer("bias", bias)  # (classes,)
        special = sorted(set(loaded.tokenizer.all_special_ids))
        self.register_buffer("special_ids", torch.tensor(special, dtype=torch.long))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with trace(self.loaded, self.name, stop=True, detach=False) as cache:
            self.hf_model(input_ids=input_ids, attention_mask=attention_mask)
        hidden = cache[self.name]  # (batch, seq, hidden)
        attention = attention_mask.bool()
        masks = PoolingInputs(attention, attention & ~torch.isin(input_ids, self.special_ids))
        pooled = pool_layers(hidden[None], masks, self.pool)[0]  # (batch, hidden)
        return pooled @ self.weight.T.to(pooled.dtype) + self.bias.to(pooled.dtype)


class Classifier(nn.Module):
    """A text classifier as one differentiable module, with its tokenizer and label names.

    ``forward(input_ids, attention_mask)`` returns logits ``(batch, classes)``;
    :meth:`probabilities` their softmax. Attribution methods differentiate through it and
    hook ``embeddings``, the token-embedding table.

    Parameters
    ----------
    network
        Module mapping ``(input_ids, attention_mask)`` to logits ``(batch, classes)``.
    tokenizer
        Fast tokenizer (offsets map tokens to words).
    labels
        Name of each output class, in output order.
    embeddings
        The token-embedding module inside ``network`` (where integrated gradients attach).
    max_length
        Longest input in tokens, special tokens included.
    description
        Provenance for result files (model identity, probe layer...).

    Examples
    --------
    >>> import bertology as bt
    >>> clf = bt.Classifier.from_pretrained("minilm", allow_random_head=True)  # doctest: +SKIP
    >>> clf.predict_proba(["a fine film"]).shape  # doctest: +SKIP
    (1, 2)
    """

    def __init__(self, network: nn.Module, tokenizer: PreTrainedTokenizerBase, labels: Sequence[str],
                 embeddings: nn.Module, max_length: int = 512, description: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.network = network
        self.tokenizer = tokenizer
        self.labels = [str(label) for label in labels]
        self.embeddings = embeddings
        self.max_length = int(max_length)
        self.description = dict(description or {})
        self.eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str | LoadedModel, **load_kwargs: Any) -> Classifier:
        """Any Hugging Face sequence-classification checkpoint as a :class:`Classifier`.

        Parameters
        ----------
        name_or_path
            Hub id (``"distilbert-base-uncased-finetuned-sst-2-english"``), local directory,
            or a model already loaded with ``bt.load_model(..., head="classifier")``.
        **load_kwargs
            Passed to :func:`bertology.load_model` (``device``, ``revision``...).

        Returns
        -------
        Classifier
            Label names from ``config.id2label``.

        Examples
        --------
        >>> clf = Classifier.from_pretrained("distilbert-base-uncased-finetuned-sst-2-english")  # doctest: +SKIP
        >>> clf.labels  # doctest: +SKIP
        ['NEGATIVE', 'POSITIVE']
        """
        loaded = name_or_path if isinstance(name_or_path, LoadedModel) else load_model(
            name_or_path, head="classifier", **load_kwargs)
        if loaded.head != "classifier":
            raise ModelError(f"{loaded.name!r} was loaded with head={loaded.head!r}; load it with "
                             "head='classifier', or use Classifier.from_probe for an encoder plus a fitted probe.")
        config = loaded.model.config
        labels = [config.id2label[i] for i in range(config.num_labels)]
        return cls(_SequenceClassifierNet(loaded), loaded.tokenizer, labels, word_embeddings(loaded),
                   loaded.max_length, {"model": loaded.describe(), "kind": "sequence-classification"})

    @classmethod
    def from_probe(cls, model: LoadedModel, probe: Any, layer: int = -1, pool: str = "cls",
                   labels: Sequence[str] | None = None) -> Classifier:
        """A frozen encoder plus a fitted linear probe, as one differentiable module.

        The hidden state ``layer`` is pooled (``pool``), multiplied by the probe's
        coefficients and softmaxed; the encoder stops after ``layer`` (later layers never
        run). Works with any fitted estimator shaped like scikit-learn's
        ``LogisticRegression`` (``coef_``, ``intercept_``, ``classes_``), e.g.
        :class:`bertology.analyses.probes.LinearProbe`.

        Parameters
        ----------
        model
            From :func:`bertology.load_model`.
        probe
            Fitted linear probe on features from ``extract(model, ..., layers=layer, pool=pool)``.
        layer
            Hidden-state index (0 = embeddings, -1 = last layer).
        pool
            ``"cls"``, ``"mean"``, ``"first"`` or ``"last"``.
        labels
            Name of each class in ``probe.classes_`` order; default ``str(c)`` per class.

        Returns
        -------
        Classifier

        Examples
        --------
        >>> import bertology as bt
        >>> from bertology.core.extraction import extract
        >>> from sklearn.linear_model import LogisticRegression
        >>> m = bt.load_model("minilm")
        >>> X = extract(m, ["good", "bad", "great", "awful"], layers=-1, progress=False)[6]  # doctest: +SKIP
        >>> probe = LogisticRegression().fit(X, [1, 0, 1, 0])  # doctest: +SKIP
        >>> Classifier.from_probe(m, probe, labels=["negative", "positive"]).labels  # doctest: +SKIP
        ['negative', 'positive']
        """
        if not hasattr(probe, "coef_") or not hasattr(probe, "classes_"):
            raise InputError("The probe is not fitted (no coef_/classes_): fit it on pooled features first, "
                             "e.g. LinearProbe().fit(X, y).")
        pool = resolve_pooling(pool)
        if pool.startswith("word"):
            raise InputError(f"pool={pool!r} needs a target word per text; a sentence classifier takes "
                             "'cls', 'mean', 'first' or 'last'.")
        hidden_index = resolve_layers(layer, model.num_layers)[0]
        coef = torch.as_tensor(np.asarray(probe.coef_), dtype=torch.float32)
        intercept = torch.as_tensor(np.atleast_1d(np.asarray(probe.intercept_)), dtype=torch.float32)
        if coef.shape[-1] != model.hidden_size:
            raise InputError(f"The probe has {coef.shape[-1]} features but {model.name!r} has hidden size "
                             f"{model.hidden_size}: fit the probe on this model's pooled features.")
        if coef.shape[0] == 1:
            coef = torch.cat([torch.zeros_like(coef), coef])
            intercept = torch.cat([torch.zeros_like(intercept), intercept])
        names = [str(c) for c in probe.classes_] if labels is None else list(labels)
        if len(names) != coef.shape[0]:
            raise InputError(f"Got {len(names)} label names for a probe with {coef.shape[0]} classes: "
                             "give one name per class, in probe.classes_ order.")
        net = _ProbeNet(model, coef.to(model.device), intercept.to(model.device), hidden_index, pool)
        return cls(net, model.tokenizer, names, word_embeddings(model), model.max_length,
                   {"model": model.describe(), "kind": "probe", "probe": type(probe).__name__,
                    "layer": hidden_index, "pool": pool})

    @property
    def device(self) -> torch.device:
        """Device of the network's parameters."""
        return next(self.network.parameters()).device

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, classes)`` of ``input_ids`` ``(batch, seq)``."""
        return self.network(input_ids, attention_mask)

    def probabilities(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Softmax of :meth:`forward`, ``(batch, classes)``."""
        return torch.softmax(self.forward(input_ids, attention_mask), dim=-1)

    def label_index(self, target: str | int) -> int:
        """Class index of a label name (case-insensitive when not exact) or of an index (negative from the end).

        Raises
        ------
        InputError
            For an unknown label or an index out of range.

        Examples
        --------
        >>> Classifier(nn.Linear(1, 2), None, ["neg", "pos"], nn.Identity()).label_index("pos")
        1
        """
        if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
            if not -len(self.labels) <= int(target) < len(self.labels):
                raise InputError(f"Target index {target} is out of range: this classifier has "
                                 f"{len(self.labels)} classes {self.labels}; pass an index 0..{len(self.labels) - 1}.")
            return int(target) % len(self.labels)
        if str(target) in self.labels:
            return self.labels.index(str(target))
        lowered = [label.lower() for label in self.labels]
        if str(target).lower() in lowered:
            return lowered.index(str(target).lower())
        raise InputError(f"Unknown target label {target!r}: this classifier's labels are {self.labels}. "
                         "Pass one of them, its index, or None for the predicted class.")

    def probabilities_of_ids(self, sequences: Sequence[Sequence[int]], batch_size: int = 32) -> np.ndarray:
        """Class probabilities of already-tokenized sequences, in length-sorted padded batches.

        Parameters
        ----------
        sequences
            Token ids per item, special tokens included.
        batch_size
            Items per forward pass.

        Returns
        -------
        numpy.ndarray
            ``(n, classes)`` float64, in input order.

        Examples
        --------
        >>> import bertology as bt  # doctest: +SKIP
        >>> clf.probabilities_of_ids([[101, 2204, 102]]).shape  # doctest: +SKIP
        (1, 2)
        """
        lengths = np.array([len(s) for s in sequences])
        out = np.zeros((len(sequences), len(self.labels)))
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        device = self.device
        with torch.inference_mode():
            for rows in length_sorted_batches(lengths, batch_size):
                ids, mask = pad_sequences([sequences[row] for row in rows], pad)
                out[rows] = self.probabilities(ids.to(device), mask.long().to(device)).double().cpu().numpy()
        return out

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts, cut to :attr:`max_length` (keeping the final special token).

        Examples
        --------
        >>> clf.encode(["a b"])  # doctest: +SKIP
        [[101, 1037, 1038, 102]]
        """
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False,
                                 return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return [ids if len(ids) <= self.max_length else ids[:self.max_length - 1] + ids[-1:] for ids in encoded]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Class probabilities of texts, batched by length (one forward pass per batch).

        Parameters
        ----------
        texts
            Sentences; over-long ones are cut to the model's limit.
        batch_size
            Items per forward pass.

        Returns
        -------
        numpy.ndarray
            ``(n, classes)``, columns in :attr:`labels` order.

        Examples
        --------
        >>> clf.predict_proba(["I loved the film", "I hated it"]).shape  # doctest: +SKIP
        (2, 2)
        """
        if isinstance(texts, str):
            raise InputError("predict_proba takes a list of texts, not one string: wrap it as [text].")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        return self.probabilities_of_ids(self.encode(texts), batch_size)


def word_embeddings(model: LoadedModel) -> nn.Module:
    """The token-embedding module of a loaded model (the adapter's ``word_embeddings_path``).

    Raises
    ------
    ModelError
        When the adapter's path does not lead to an embedding table in this model.

    Examples
    --------
    >>> import bertology as bt
    >>> word_embeddings(bt.load_model("minilm")).num_embeddings
    30522
    """
    path = model.adapter.word_embeddings_path
    try:
        module = model.model.base_model.get_submodule(path)
    except AttributeError:
        module = None
    if not isinstance(module, nn.Embedding):
        raise ModelError(f"{model.name!r} ({model.model_type}) has no token-embedding table at {path!r}: "
                         "fix word_embeddings_path of its entry in bertology.core.models.adapters.ADAPTERS.")
    return module
