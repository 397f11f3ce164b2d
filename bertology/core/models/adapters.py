"""Per-architecture adapter table: canonical names to Hugging Face module paths.

Every supported encoder is one :class:`Adapter` entry: data, not code paths. Paths are
relative to the model's *base model* (``model.base_model``), so the same entry serves
``BertModel``, ``BertForMaskedLM`` and ``BertForSequenceClassification``.

Canonical names, the same for every model (``i`` counts layers from 0):

- ``embeddings`` — the input to the first layer (``hidden_states[0]`` of HF);
- ``layers.{i}.resid_pre`` — the residual stream entering layer ``i`` (``hidden_states[i]`` of HF);
- ``layers.{i}.attn.pattern`` — attention probabilities, shape ``(batch, heads, query, key)``;
- ``layers.{i}.attn.heads`` — each head's context vectors, the input of the attention output
  projection split by head, shape ``(batch, query, heads, d_head)``;
- ``layers.{i}.mlp_out`` — the feed-forward block's output, before the residual add and norm
  (the block's first linear map is ``mlp_in_path``);
- ``layers.{i}.resid_post`` — the layer's output (``hidden_states[i + 1]`` of HF).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from torch import nn

from bertology.core.errors import ModelError


@dataclass(frozen=True)
class Adapter:
    """Where the canonical activations live inside one architecture.

    Parameters
    ----------
    model_type
        The ``config.model_type`` this entry serves.
    layer_path
        Path of layer ``i`` relative to the base model, with ``{i}`` (or, for shared
        layers, ``{group}``) as placeholder.
    attention_path
        Path, relative to a layer, of the module whose output tuple holds the attention
        probabilities at index 1.
    mlp_out_path
        Path, relative to a layer, of the linear map that produces the MLP output.
    mlp_in_path
        Path, relative to a layer, of the feed-forward block's first linear map (its input is
        the attention sub-layer's output, one row per token).
    attn_output_path
        Path, relative to a layer, of the attention output projection: the linear map whose
        input is the concatenated per-head context (``attn.heads``).
    word_embeddings_path
        Path, relative to the base model, of the token embedding table.
    attention_kwargs
        Keyword arguments forced on the attention module so that it returns probabilities.
    shared_layers
        ``True`` where one module object serves several layers (ALBERT).
    uses_token_type_ids
        Whether the model takes ``token_type_ids``.
    query_path, key_path
        Paths, relative to a layer, of the query and key projections (their outputs,
        split by head, are each head's query and key vectors).
    value_path
        Path, relative to a layer, of the value projection (its output, split by head, is
        each head's value vectors, bias included).
    scores
        How the model turns queries and keys into pre-softmax scores: ``"scaled_dot"``
        (``q·k/√d_head``) or ``"disentangled"`` (DeBERTa: content-to-content ``q·k`` scaled by
        ``√(d_head·(1 + len(pos_att_type)))`` plus content-to-position and position-to-content terms).

    Examples
    --------
    >>> ADAPTERS["bert"].layer_path
    'encoder.layer.{i}'
    """

    model_type: str
    layer_path: str
    attention_path: str
    mlp_out_path: str
    attn_output_path: str
    mlp_in_path: str
    word_embeddings_path: str = "embeddings.word_embeddings"
    attention_kwargs: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    shared_layers: bool = False
    uses_token_type_ids: bool = True
    query_path: str = "attention.self.query"
    key_path: str = "attention.self.key"
    value_path: str | None = None
    scores: str = "scaled_dot"

    def layer_modules(self, model: nn.Module) -> list[nn.Module]:
        """The module that runs as layer ``i``, for every ``i`` (shared modules repeat).

        Parameters
        ----------
        model
            A Hugging Face model of this architecture (any head).

        Returns
        -------
        list of torch.nn.Module
            ``num_hidden_layers`` entries, in execution order.

        Examples
        --------
        >>> import transformers
        >>> cfg = transformers.BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
        ...                               intermediate_size=8, vocab_size=10)
        >>> len(ADAPTERS["bert"].layer_modules(transformers.BertModel(cfg)))
        2
        """
        base = model.base_model
        n_layers = model.config.num_hidden_layers
        if not self.shared_layers:
            return [base.get_submodule(self.layer_path.format(i=i)) for i in range(n_layers)]
        n_groups = model.config.num_hidden_groups
        if getattr(model.config, "inner_group_num", 1) != 1:
            raise ModelError(
                f"{self.model_type} with inner_group_num={model.config.inner_group_num} is not supported: "
                "only inner_group_num=1 (every released ALBERT checkpoint) maps layers one to one."
            )
        per_group = n_layers // n_groups
        return [base.get_submodule(self.layer_path.format(group=i // per_group)) for i in range(n_layers)]


_BERT_LIKE = dict(
    layer_path="encoder.layer.{i}",
    attention_path="attention.self",
    mlp_out_path="output.dense",
    attn_output_path="attention.output.dense",
    mlp_in_path="intermediate.dense",
    value_path="attention.self.value",
)

ADAPTERS: Mapping[str, Adapter] = MappingProxyType({
    "bert": Adapter("bert", **_BERT_LIKE),
    "roberta": Adapter("roberta", **_BERT_LIKE),
    "xlm-roberta": Adapter("xlm-roberta", **_BERT_LIKE),
    "camembert": Adapter("camembert", **_BERT_LIKE),
    "electra": Adapter("electra", **_BERT_LIKE),
    "deberta-v2": Adapter(
        "deberta-v2", **{**_BERT_LIKE, "value_path": "attention.self.value_proj"},
        attention_kwargs=MappingProxyType({"output_attentions": True}),
        uses_token_type_ids=False,
        query_path="attention.self.query_proj",
        key_path="attention.self.key_proj",
        scores="disentangled",
    ),
    "distilbert": Adapter(
        "distilbert",
        layer_path="transformer.layer.{i}",
        attention_path="attention",
        mlp_out_path="ffn.lin2",
        attn_output_path="attention.out_lin",
        mlp_in_path="ffn.lin1",
        uses_token_type_ids=False,
        query_path="attention.q_lin",
        key_path="attention.k_lin",
        value_path="attention.v_lin",
    ),
    "albert": Adapter(
        "albert",
        layer_path="encoder.albert_layer_groups.{group}.albert_layers.0",
        attention_path="attention",
        mlp_out_path="ffn_output",
        attn_output_path="attention.dense",
        mlp_in_path="ffn",
        shared_layers=True,
        query_path="attention.query",
        key_path="attention.key",
        value_path="attention.value",
    ),
})


def get_adapter(model_type: str) -> Adapter:
    """Look up the adapter of an architecture.

    Parameters
    ----------
    model_type
        ``config.model_type`` of a Hugging Face model (``"bert"``, ``"roberta"``...).

    Returns
    -------
    Adapter
        The table entry.

    Raises
    ------
    ModelError
        For an architecture without an entry; the message lists the supported ones.

    Examples
    --------
    >>> get_adapter("distilbert").mlp_out_path
    'ffn.lin2'
    """
    try:
        return ADAPTERS[model_type]
    except KeyError:
        raise ModelError(
            f"Architecture {model_type!r} is not supported. Supported model types: "
            f"{', '.join(sorted(ADAPTERS))}. A new encoder is one entry in bertology.core.models.adapters.ADAPTERS."
        ) from None
