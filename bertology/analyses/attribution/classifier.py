"""``Classifier``: one differentiable torch module (token ids -> class logits) + tokenizer + label names."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
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
from bertology.core.hooks import hidden_state_name, one_position, trace
from bertology.core.models import LoadedModel, load_model


class _HeadNet(nn.Module):
    """A Hugging Face ``...ForSequenceClassification`` model as ``(input_ids, attention_mask[, token_type_ids])
    -> logits (batch, labels)``, or with ``per_token`` a ``...ForTokenClassification`` model, ``-> logits (batch,
    seq, labels)``. Every supported sequence head reads the last layer at the first token only, so the rest of that
    layer after its attention runs there alone (:func:`~bertology.core.hooks.one_position`)."""

    def __init__(self, loaded: LoadedModel, per_token: bool = False) -> None:
        super().__init__()
        self.hf_model = loaded.model
        self.per_token = per_token

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        with nullcontext() if self.per_token else one_position(self.hf_model, -1):
            return self.hf_model(input_ids=input_ids, attention_mask=attention_mask,
                                 **segment_kwargs(token_type_ids)).logits


class _ProbeNet(nn.Module):
    """Frozen encoder, hidden state ``hidden_index`` pooled, then a linear probe: ``-> logits``. The encoder
    stops after that hidden state; a [CLS] probe of a layer runs the rest of that layer after its attention at the
    first token only (:func:`~bertology.core.hooks.one_position`)."""

    def __init__(self, loaded: LoadedModel, weight: torch.Tensor, bias: torch.Tensor, hidden_index: int,
                 pool: str) -> None:
        super().__init__()
        self.loaded = loaded
        self.hf_model = loaded.model
        self.name = hidden_state_name(hidden_index, loaded.num_layers)
        self.first_token_layer = hidden_index - 1 if pool == "cls" and hidden_index > 0 else None
        self.pool = pool
        self.register_buffer("weight", weight)  # (classes, hidden)
        self.register_buffer("bias", bias)  # (classes,)
        special = sorted(set(loaded.tokenizer.all_special_ids))
        self.register_buffer("special_ids", torch.tensor(special, dtype=torch.long))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        narrowed = nullcontext() if self.first_token_layer is None else one_position(self.loaded,
                                                                                     self.first_token_layer)
        with narrowed, trace(self.loaded, self.name, stop=True, detach=False) as cache:
            self.hf_model(input_ids=input_ids, attention_mask=attention_mask, **segment_kwargs(token_type_ids))
        hidden = cache[self.name]  # (batch, seq, hidden)
        attention = attention_mask.bool()
        masks = PoolingInputs(attention, attention & ~torch.isin(input_ids, self.special_ids))
        pooled = pool_layers(hidden[None], masks, self.pool)[0]  # (batch, hidden)
        return pooled @ self.weight.T.to(pooled.dtype) + self.bias.to(pooled.dtype)


class Classifier(nn.Module):
    """A text classifier (or regressor) as one differentiable module, with its tokenizer and label names.

    ``forward(input_ids, attention_mask, token_type_ids=None)`` returns logits
    ``(batch, classes)``; :meth:`probabilities` the explained output: their softmax, or for a
    regression head (``regression=True``, one output) the predicted value itself. ``token_type_ids`` are the
    segment ids of a sentence pair (``None``: the model's default, one segment). A token
    classifier's network returns ``(batch, seq, labels)``; inside :meth:`at_token` the
    classifier returns the logits of one token position, ``(batch, labels)``. Attribution methods differentiate through it and
    hook ``embeddings``, the token-embedding table.

    Parameters
    ----------
    network
        Module mapping ``(input_ids, attention_mask, token_type_ids=None)`` to logits ``(batch, classes)``.
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
    regression
        The network has one output, a regression value (e.g. an STS-B similarity), explained
        as it is: no softmax.

    Examples
    --------
    >>> import bertology as bt
    >>> clf = bt.Classifier.from_pretrained("minilm", allow_random_head=True)  # doctest: +SKIP
    >>> clf.predict_proba(["a fine film"]).shape  # doctest: +SKIP
    (1, 2)
    """

    def __init__(self, network: nn.Module, tokenizer: PreTrainedTokenizerBase, labels: Sequence[str],
                 embeddings: nn.Module, max_length: int = 512, description: dict[str, Any] | None = None,
                 regression: bool = False) -> None:
        super().__init__()
        if regression and len(labels) != 1:
            raise InputError(f"A regression head has one output, but {len(labels)} label names were given: "
                             "give one name for the predicted value.")
        self.network = network
        self.tokenizer = tokenizer
        self.labels = [str(label) for label in labels]
        self.embeddings = embeddings
        self.max_length = int(max_length)
        self.regression = bool(regression)
        self.description = {**(description or {}), "output": self.output}
        self.token_position: int | None = None
        self.eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str | LoadedModel, **load_kwargs: Any) -> Classifier:
        """Any Hugging Face sequence-classification checkpoint as a :class:`Classifier`, or a loaded
        token-classification model as a token classifier (see :attr:`is_token_classifier`).

        A sequence-classification head with one output (``num_labels == 1``, or
        ``problem_type == "regression"``, e.g. an STS-B model) is a regression head: the
        explained output is the raw predicted value, not a softmax, and its one label is
        ``config.id2label[0]``, or ``"score"`` when that is the default ``"LABEL_0"``.

        Parameters
        ----------
        name_or_path
            Hub id (``"distilbert-base-uncased-finetuned-sst-2-english"``), local directory,
            or a model already loaded with ``bt.load_model(..., head="classifier")`` or
            ``head="token-classifier"`` (a tagger).
        **load_kwargs
            Passed to :func:`bertology.load_model` (``head="token-classifier"`` for a tagger,
            ``device``, ``revision``...).

        Returns
        -------
        Classifier
            Label names from ``config.id2label``; :attr:`regression` for a regression head.

        Examples
        --------
        >>> clf = Classifier.from_pretrained("distilbert-base-uncased-finetuned-sst-2-english")  # doctest: +SKIP
        >>> clf.labels  # doctest: +SKIP
        ['NEGATIVE', 'POSITIVE']
        >>> tagger = Classifier.from_pretrained("dslim/bert-base-NER", head="token-classifier")  # doctest: +SKIP
        >>> tagger.is_token_classifier  # doctest: +SKIP
        True
        """
        loaded = name_or_path if isinstance(name_or_path, LoadedModel) else load_model(
            name_or_path, **{"head": "classifier", **load_kwargs})
        config = loaded.model.config
        labels = [config.id2label[i] for i in range(config.num_labels)]
        if type(loaded.model).__name__.endswith("ForTokenClassification"):
            return cls(_HeadNet(loaded, per_token=True), loaded.tokenizer, labels, word_embeddings(loaded),
                       loaded.max_length, {"model": loaded.describe(), "kind": "token-classification"})
        if loaded.head != "classifier":
            raise ModelError(f"{loaded.name!r} was loaded with head={loaded.head!r}; load it with "
                             "head='classifier', or use Classifier.from_probe for an encoder plus a fitted probe.")
        if config.problem_type == "regression" or config.num_labels == 1:
            if config.num_labels != 1:
                raise ModelError(f"{loaded.name!r} has problem_type='regression' but {config.num_labels} outputs: "
                                 "bertology explains a regression head with one output.")
            name = str(config.id2label.get(0, "LABEL_0"))
            return cls(_HeadNet(loaded), loaded.tokenizer, ["score" if name == "LABEL_0" else name],
                       word_embeddings(loaded), loaded.max_length,
                       {"model": loaded.describe(), "kind": "sequence-regression"}, regression=True)
        return cls(_HeadNet(loaded), loaded.tokenizer, labels, word_embeddings(loaded),
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
    def output(self) -> str:
        """What :meth:`probabilities` returns and the methods explain: ``"probability"`` or ``"regression value"``.

        Examples
        --------
        >>> Classifier(nn.Linear(1, 1), None, ["similarity"], nn.Identity(), regression=True).output
        'regression value'
        """
        return "regression value" if self.regression else "probability"

    @property
    def is_token_classifier(self) -> bool:
        """Whether the network labels every token (``(batch, seq, labels)`` logits).

        Examples
        --------
        >>> Classifier(nn.Linear(1, 2), None, ["neg", "pos"], nn.Identity()).is_token_classifier
        False
        """
        return isinstance(self.network, _HeadNet) and self.network.per_token

    @contextmanager
    def at_token(self, position: int) -> Iterator[Classifier]:
        """Within the block, a token classifier outputs the logits of token ``position`` only, ``(batch, labels)``.

        Examples
        --------
        >>> with tagger.at_token(1):  # doctest: +SKIP
        ...     tagger(ids, mask).shape
        torch.Size([1, 9])
        """
        previous, self.token_position = self.token_position, int(position)
        try:
            yield self
        finally:
            self.token_position = previous

    @property
    def takes_segment_ids(self) -> bool:
        """Whether the model takes segment ids (``token_type_ids``; DistilBERT, for one, does not).

        Examples
        --------
        >>> Classifier(nn.Linear(1, 2), None, ["neg", "pos"], nn.Identity()).takes_segment_ids
        False
        """
        model = getattr(self.network, "hf_model", None)
        if model is not None:
            return "token_type_ids" in inspect.signature(model.forward).parameters
        return len(inspect.signature(self.network.forward).parameters) >= 3

    @property
    def device(self) -> torch.device:
        """Device of the network's parameters."""
        return next(self.network.parameters()).device

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(batch, classes)`` of ``input_ids`` ``(batch, seq)`` (segment ids ``token_type_ids``)."""
        if token_type_ids is None:
            logits = self.network(input_ids, attention_mask)
        else:
            logits = self.network(input_ids, attention_mask, token_type_ids)
        if logits.dim() == 3:
            if self.token_position is None:
                raise InputError("This token classifier labels every token: explain one word's label with "
                                 "target=('token', word_index, label).")
            return logits[:, self.token_position]
        return logits

    def probabilities(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """The explained output, ``(batch, classes)``: the softmax of :meth:`forward`, or for a regression
        head (:attr:`regression`) the predicted value itself, ``(batch, 1)``."""
        logits = self.forward(input_ids, attention_mask, token_type_ids)
        return logits if self.regression else torch.softmax(logits, dim=-1)

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

    @contextmanager
    def memoized(self) -> Iterator[Classifier]:
        """Within the block, :meth:`probabilities_of_ids` (and so :meth:`predict_proba`) remembers the
        probabilities of every sequence it ran: a sequence seen before (same ids, segment ids and
        :meth:`at_token` position) costs no forward pass; so do readings kept with :meth:`remembered`
        (a text's attention, shared by the attention-based methods). The model must not change inside the block;
        a nested block shares the outer one's memory, which is dropped when the outer block ends.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> class Net(nn.Linear):
        ...     rows = 0
        ...     def forward(self, ids, mask):
        ...         Net.rows += len(ids)
        ...         return super().forward(ids.float())
        >>> clf = Classifier(Net(3, 2), SimpleNamespace(pad_token_id=0), ["neg", "pos"], nn.Identity())
        >>> with clf.memoized():
        ...     first = clf.probabilities_of_ids([[1, 2, 3], [4, 5, 6]])
        ...     again = clf.probabilities_of_ids([[4, 5, 6], [1, 2, 3]])
        >>> Net.rows, bool((again == first[::-1]).all())
        (2, True)
        """
        if getattr(self, "_memo", None) is not None:
            yield self
            return
        self._memo: dict[tuple, np.ndarray] | None = {}
        try:
            yield self
        finally:
            self._memo = None

    def remembered(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``; inside :meth:`memoized`, the value it gave for ``key`` earlier in the block.

        Examples
        --------
        >>> clf = Classifier(nn.Linear(1, 2), None, ["neg", "pos"], nn.Identity())
        >>> calls = []
        >>> with clf.memoized():
        ...     values = [clf.remembered(("reading", 1), lambda: calls.append(1) or len(calls)) for _ in range(2)]
        >>> values, len(calls)
        ([1, 1], 1)
        """
        memo = getattr(self, "_memo", None)
        if memo is None:
            return compute()
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def probabilities_of_ids(self, sequences: Sequence[Sequence[int]], batch_size: int = 32,
                             segments: Sequence[Sequence[int]] | None = None) -> np.ndarray:
        """Class probabilities of already-tokenized sequences, in length-sorted padded batches.

        Each distinct sequence (ids and segment ids) runs once per call; inside :meth:`memoized`,
        once per block.

        Parameters
        ----------
        sequences
            Token ids per item, special tokens included.
        batch_size
            Items per forward pass.
        segments
            Segment ids (``token_type_ids``) per item, as long as its ids; ``None``: one segment.

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
        memo = getattr(self, "_memo", None)
        keys = [(self.token_position, tuple(ids), None if segments is None else tuple(segments[row]))
                for row, ids in enumerate(sequences)]
        out = np.zeros((len(sequences), len(self.labels)))
        first: dict[tuple, int] = {}
        for row, key in enumerate(keys):
            if memo is not None and key in memo:
                out[row] = memo[key]
            else:
                first.setdefault(key, row)
        todo = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        with torch.inference_mode():
            for batch in length_sorted_batches(np.array([len(sequences[row]) for row in todo]), batch_size):
                rows = todo[batch]
                inputs = self.padded([sequences[row] for row in rows],
                                     None if segments is None else [segments[row] for row in rows])
                out[rows] = self.probabilities(*inputs).double().cpu().numpy()
        if memo is not None:
            memo.update((key, out[row].copy()) for key, row in first.items())
        return out[[first.get(key, row) for row, key in enumerate(keys)]]

    def padded(self, sequences: Sequence[Sequence[int]], segments: Sequence[Sequence[int]] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Token ids right-padded into one batch on the classifier's device: ``(input_ids, attention_mask,
        token_type_ids)``, the segment ids padded with 0, or ``None`` without ``segments``.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> clf = Classifier(nn.Linear(1, 2), SimpleNamespace(pad_token_id=0), ["neg", "pos"], nn.Identity())
        >>> ids, mask, types = clf.padded([[5, 6, 7], [8]])
        >>> ids.tolist(), mask.tolist(), types
        ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]], None)
        """
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids, mask = pad_sequences(sequences, pad)
        types = None if segments is None else pad_sequences(segments, 0)[0].to(self.device)
        return ids.to(self.device), mask.long().to(self.device), types

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts, cut to :attr:`max_length` (keeping the final special token).

        Examples
        --------
        >>> clf.encode(["a b"])  # doctest: +SKIP
        [[101, 1037, 1038, 102]]
        """
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False,
                                 return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return [self._cut(ids) for ids in encoded]

    def encode_pairs(self, pairs: Sequence[tuple[str, str]]) -> tuple[list[list[int]], list[list[int]] | None]:
        """Token ids and segment ids of sentence pairs (the tokenizer's pair encoding), cut like :meth:`encode`.

        Returns
        -------
        tuple
            Ids per pair, and segment ids per pair (``None`` when the tokenizer has none, e.g.
            RoBERTa's, or the model takes none, e.g. DistilBERT).

        Examples
        --------
        >>> clf.encode_pairs([("a", "b")])  # doctest: +SKIP
        ([[101, 1037, 102, 1038, 102]], [[0, 0, 0, 1, 1]])
        """
        encoded = self.tokenizer([first for first, _ in pairs], [second for _, second in pairs],
                                 add_special_tokens=True, truncation=False, verbose=False, return_attention_mask=False)
        ids = [self._cut(item) for item in encoded["input_ids"]]
        if "token_type_ids" not in encoded or not self.takes_segment_ids:
            return ids, None
        return ids, [self._cut(item) for item in encoded["token_type_ids"]]

    def _cut(self, ids: list[int]) -> list[int]:
        return ids if len(ids) <= self.max_length else ids[:self.max_length - 1] + ids[-1:]

    def predict_proba(self, texts: Sequence[str] | Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        """Class probabilities of texts, batched by length (one forward pass per batch).

        Parameters
        ----------
        texts
            Sentences, or sentence pairs as ``(first, second)`` tuples; over-long ones are cut to
            the model's limit.
        batch_size
            Items per forward pass.

        Returns
        -------
        numpy.ndarray
            ``(n, classes)``, columns in :attr:`labels` order (a regression head: ``(n, 1)``
            predicted values, see :meth:`probabilities`).

        Examples
        --------
        >>> clf.predict_proba(["I loved the film", "I hated it"]).shape  # doctest: +SKIP
        (2, 2)
        """
        if isinstance(texts, str):
            raise InputError("predict_proba takes a list of texts, not one string: wrap it as [text].")
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        if isinstance(texts[0], tuple):
            ids, segments = self.encode_pairs(texts)
            return self.probabilities_of_ids(ids, batch_size, segments)
        return self.probabilities_of_ids(self.encode(texts), batch_size)


def segment_kwargs(token_type_ids: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """``{"token_type_ids": ...}`` for a Hugging Face model call, or nothing when there are no segment ids.

    Examples
    --------
    >>> segment_kwargs(None)
    {}
    """
    return {} if token_type_ids is None else {"token_type_ids": token_type_ids}


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
