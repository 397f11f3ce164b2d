"""Masked-LM read-out at one position per row, without materialising the full (batch, seq, vocab) logits."""

from __future__ import annotations

import torch

from bertology.core.errors import ModelError
from bertology.core.models.loading import LoadedModel


def has_mlm_head(model: LoadedModel) -> bool:
    """Whether ``model`` was loaded with a masked-LM head (and its tokenizer has a mask token).

    Examples
    --------
    >>> from bertology.core.models import load_model
    >>> has_mlm_head(load_model("minilm"))
    False
    """
    return (model.head == "mlm" and model.model.get_output_embeddings() is not None
            and model.tokenizer.mask_token_id is not None)


def require_mlm(model: LoadedModel, what: str) -> None:
    """Raise a :class:`ModelError` naming ``what`` unless ``model`` has a masked-LM head.

    Examples
    --------
    >>> from bertology.core.models import load_model
    >>> require_mlm(load_model("minilm"), "patching a cloze suite")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.ModelError: ...
    """
    if not has_mlm_head(model):
        raise ModelError(f"{what} needs a masked-LM head, but {model.name!r} was loaded with head={model.head!r}. "
                         "Load a checkpoint trained with one: bt.load_model('bert-base-uncased', head='mlm').")


def mlm_log_probs(model: LoadedModel, inputs: dict[str, torch.Tensor], positions: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of the MLM head at ``positions[row]`` of each row: ``(batch, vocab)`` float32.

    A forward hook on the base model keeps only the hidden state at each row's position,
    so the head runs on one vector per row. Hooks and edits on the layers (``trace``,
    ``intervene``) act as usual.

    Parameters
    ----------
    model
        A model with a masked-LM head.
    inputs
        Keyword inputs of the model (``input_ids``, ``attention_mask``...), on its device.
    positions
        ``(batch,)`` long tensor: the position read in each row.

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from bertology.core.models import load_model
    >>> from tests.tiny_models import build_tiny_model
    >>> m = load_model(str(build_tiny_model("bert", "mlm", pathlib.Path(tempfile.mkdtemp()))), head="mlm")
    >>> batch = m.tokenizer(["the boys [MASK] here"], return_tensors="pt")
    >>> tuple(mlm_log_probs(m, dict(batch), torch.tensor([3])).shape) == (1, m.model.config.vocab_size)
    True
    """

    def keep_positions(module: torch.nn.Module, args: object, output: object) -> object:
        hidden = output[0]  # (batch, seq, hidden)
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        output["last_hidden_state"] = hidden[rows, positions.to(hidden.device)].unsqueeze(1)  # (batch, 1, hidden)
        return output

    handle = model.model.base_model.register_forward_hook(keep_positions)
    try:
        logits = model.model(**inputs, return_dict=True).logits[:, 0]  # (batch, vocab)
    finally:
        handle.remove()
    return torch.log_softmax(logits.float(), dim=-1)
