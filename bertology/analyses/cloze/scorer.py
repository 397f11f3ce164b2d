"""MaskedLMScorer: top-k fill, candidate comparison (multi-piece safe) and pseudo-log-likelihood."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from bertology.analyses.cloze.engine import MaskedCopy, score_copies
from bertology.analyses.cloze.names import PLL_VARIANTS
from bertology.core.errors import InputError, ModelError
from bertology.core.models import LoadedModel

PLLVariant = Literal["original", "within_word_l2r"]
MASK_MARKERS = ("[MASK]", "{mask}")


def covering_tokens(encoding: Mapping[str, Any], start: int, end: int) -> list[int]:
    """Positions of the non-special tokens whose characters overlap ``[start, end)``.

    Parameters
    ----------
    encoding
        A tokenization with ``offset_mapping`` and ``special_tokens_mask`` (see :meth:`MaskedLMScorer.encode`).
    start, end
        Character span in the encoded text.

    Returns
    -------
    list of int
        Token positions, in order.

    Examples
    --------
    >>> covering_tokens({"offset_mapping": [(0, 0), (0, 3), (4, 8), (0, 0)],
    ...                  "special_tokens_mask": [1, 0, 0, 1]}, 2, 5)
    [1, 2]
    """
    offsets = np.asarray(encoding["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    content = ~np.asarray(encoding["special_tokens_mask"], dtype=bool)
    return np.flatnonzero(content & (offsets[:, 0] < end) & (offsets[:, 1] > start)).tolist()


class MaskedLMScorer:
    """Score text with a masked language model.

    Every method turns its input into *masked copies* (one sentence with some tokens
    replaced by the mask token, one position read) and scores all copies of all inputs
    together in length-sorted batches of at most ``max_tokens`` tokens under
    :func:`torch.inference_mode`, reading the MLM head only at the scored position.

    Parameters
    ----------
    model
        From ``bt.load_model(name, head="mlm")``.
    max_tokens
        Token budget of one forward pass (rows × padded length); lower it on small GPUs.
    progress
        Show progress bars.

    Raises
    ------
    ModelError
        The model has no masked-LM head or its tokenizer has no mask token.

    Examples
    --------
    >>> import bertology as bt
    >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
    >>> scorer.fill("The capital of France is [MASK].", top_k=1).token[0]  # doctest: +SKIP
    'paris'
    """

    def __init__(self, model: LoadedModel, max_tokens: int = 4096, progress: bool = True) -> None:
        if model.head != "mlm" or model.model.get_output_embeddings() is None:
            raise ModelError(
                f"{model.name!r} was loaded with head={model.head!r}; cloze scoring needs a masked-LM head. "
                "Load a checkpoint trained with one: bt.load_model('bert-base-uncased', head='mlm') "
                "(the bundled 'minilm' has no MLM head; allow_random_head=True gives an untrained one for tests)."
            )
        if model.tokenizer.mask_token_id is None:
            raise ModelError(f"The tokenizer of {model.name!r} has no mask token; use a masked-LM checkpoint.")
        if max_tokens < 1:
            raise InputError(f"max_tokens must be at least 1, got {max_tokens}.")
        self.model = model
        self.tokenizer = model.tokenizer
        self.max_tokens = int(max_tokens)
        self.progress = progress

    @property
    def mask_token(self) -> str:
        """The tokenizer's mask token (``[MASK]``, ``<mask>``...)."""
        return str(self.tokenizer.mask_token)

    def split_template(self, template: str) -> tuple[str, str]:
        """Text before and after the one mask marker of ``template``.

        Parameters
        ----------
        template
            A sentence with exactly one ``[MASK]``, ``{mask}`` or the tokenizer's own mask token.

        Returns
        -------
        tuple of str
            ``(prefix, suffix)``.

        Raises
        ------
        InputError
            No mask marker, or more than one.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.split_template("The boys {mask} shy.")  # doctest: +SKIP
        ('The boys ', ' shy.')
        """
        if not isinstance(template, str):
            raise InputError(f"A template must be a string, got {type(template).__name__}.")
        markers = tuple(dict.fromkeys((*MASK_MARKERS, self.mask_token)))
        found = [(template.find(marker), marker) for marker in markers if marker in template]
        count = sum(template.count(marker) for marker in markers)
        if count != 1:
            problem = "has no mask" if count == 0 else f"has {count} masks"
            raise InputError(f"Template {template!r} {problem}: write exactly one [MASK] (or {{mask}}) "
                             "where the word to predict goes.")
        start, marker = found[0]
        return template[:start], template[start + len(marker):]

    def encode(self, text: str) -> dict:
        """Tokenize ``text`` with offsets and special-token mask, refusing texts over the length limit.

        Parameters
        ----------
        text
            A sentence.

        Returns
        -------
        transformers.BatchEncoding
            ``input_ids``, ``offset_mapping``, ``special_tokens_mask`` (and ``word_ids()``).

        Raises
        ------
        InputError
            The text has more tokens than the model accepts.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.encode("The boys are shy.")["input_ids"][0] == scorer.tokenizer.cls_token_id  # doctest: +SKIP
        True
        """
        encoding = self.tokenizer(text, add_special_tokens=True, return_offsets_mapping=True,
                                  return_special_tokens_mask=True, truncation=False, verbose=False)
        if len(encoding["input_ids"]) > self.model.max_length:
            raise InputError(f"{text[:60]!r}... has {len(encoding['input_ids'])} tokens but the model accepts at "
                             f"most {self.model.max_length}: shorten it or split it into sentences.")
        return encoding

    def fill(self, template: str, top_k: int = 5) -> pd.DataFrame:
        """The ``top_k`` most probable tokens at the mask of ``template``.

        Parameters
        ----------
        template
            A sentence with one ``[MASK]`` or ``{mask}``.
        top_k
            How many predictions.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank``, ``token`` (decoded), ``piece`` (vocabulary entry), ``token_id``,
            ``probability``, ``log_prob``; most probable first.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.fill("In the hospital the woman works as a [MASK].", top_k=2).columns.tolist()  # doctest: +SKIP
        ['rank', 'token', 'piece', 'token_id', 'probability', 'log_prob']
        """
        if top_k < 1:
            raise InputError(f"top_k must be at least 1, got {top_k}.")
        prefix, suffix = self.split_template(template)
        ids = self.encode(prefix + self.mask_token + suffix)["input_ids"]
        position = ids.index(self.tokenizer.mask_token_id)
        top_k = min(top_k, len(self.tokenizer))
        _, top_ids, top_lp = score_copies(self.model, [ids], [MaskedCopy(0, (position,), position, 0)],
                                          self.max_tokens, progress=False, top_k=top_k)
        pieces = self.tokenizer.convert_ids_to_tokens(top_ids[0].tolist())
        return pd.DataFrame({
            "rank": np.arange(1, top_k + 1),
            "token": [self.tokenizer.convert_tokens_to_string([piece]).strip() for piece in pieces],
            "piece": pieces,
            "token_id": top_ids[0],
            "probability": np.exp(top_lp[0]),
            "log_prob": top_lp[0],
        })

    def score_spans(self, texts: Sequence[str], spans: Sequence[tuple[int, int]],
                    extra_masks: Sequence[Sequence[tuple[int, int]]] | None = None) -> list[np.ndarray]:
        """Left-to-right log-probabilities of the word-pieces of a character span in each text.

        The span's pieces ``w_1..w_k`` are scored as ``log P(w_j | context, w_<j, [MASK] for w_≥j)``:
        the pseudo-log-likelihood of Salazar et al. (2020) restricted to the span, in the
        ``within_word_l2r`` form of Kauf & Ivanova (2023), so that later pieces of the word
        never leak into the prediction of earlier ones. The span's score is the sum.

        Parameters
        ----------
        texts
            Sentences.
        spans
            Per text, the ``(start, end)`` characters of the scored word(s).
        extra_masks
            Per text, further character spans to keep masked in every copy (e.g. the
            attribute word for Kurita et al.'s 2019 prior).

        Returns
        -------
        list of numpy.ndarray
            Per text, the log-probability of each piece of the span.

        Raises
        ------
        InputError
            A span that covers no token, or a text longer than the model accepts.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.score_spans(["The boys are shy."], [(9, 12)])[0].shape  # doctest: +SKIP
        (1,)
        """
        if len(spans) != len(texts) or (extra_masks is not None and len(extra_masks) != len(texts)):
            raise InputError(f"Got {len(texts)} texts but {len(spans)} spans: give one span per text.")
        sequences, copies, owners = [], [], []
        for index, (text, (start, end)) in enumerate(zip(texts, spans)):
            encoding = self.encode(text)
            pieces = covering_tokens(encoding, start, end)
            if not pieces:
                raise InputError(f"{text[start:end]!r} in {text!r} tokenizes to nothing: give a non-empty word "
                                 "the tokenizer keeps.")
            others = [p for s, e in (extra_masks[index] if extra_masks is not None else ())
                      for p in covering_tokens(encoding, s, e)]
            ids = encoding["input_ids"]
            sequences.append(ids)
            for j, position in enumerate(pieces):
                masked = tuple(sorted(set(pieces[j:]) | set(others)))
                copies.append(MaskedCopy(len(sequences) - 1, masked, position, ids[position]))
                owners.append(index)
        scores, _, _ = score_copies(self.model, sequences, copies, self.max_tokens, progress=self.progress)
        owners_array = np.asarray(owners)
        return [scores[owners_array == index] for index in range(len(texts))]

    def compare_many(self, templates: Sequence[str], candidates: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """:meth:`compare` for many templates at once (all scored in shared batches).

        Parameters
        ----------
        templates
            Sentences with one mask each.
        candidates
            Per template, the words to compare.

        Returns
        -------
        list of dict
            Per template, ``{candidate: log-probability}``.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.compare_many(["The boys [MASK] shy."], [["are", "is"]])  # doctest: +SKIP
        [{'are': -0.4, 'is': -2.1}]
        """
        if isinstance(templates, str):
            raise InputError("templates must be a list of strings; for one template use compare().")
        if len(candidates) != len(templates):
            raise InputError(f"Got {len(templates)} templates but {len(candidates)} candidate lists.")
        texts, spans, keys = [], [], []
        for index, (template, words) in enumerate(zip(templates, candidates)):
            prefix, suffix = self.split_template(template)
            if isinstance(words, str) or len(words) == 0:
                raise InputError(f"Template {index}: candidates must be a non-empty list of words, got {words!r}.")
            for word in words:
                if not isinstance(word, str) or not word.strip():
                    raise InputError(f"Template {index}: candidate {word!r} is empty; give a word.")
                texts.append(prefix + word + suffix)
                spans.append((len(prefix), len(prefix) + len(word)))
                keys.append((index, word))
        scores = self.score_spans(texts, spans)
        out: list[dict[str, float]] = [{} for _ in templates]
        for (index, word), pieces in zip(keys, scores):
            out[index][word] = float(pieces.sum())
        return out

    def compare(self, template: str, candidates: Sequence[str]) -> dict[str, float]:
        """Log-probability of each candidate word at the mask of ``template``.

        A candidate is written into the template and its word-pieces ``w_1..w_k`` (as the
        tokenizer splits it *in context*) are scored left to right:
        ``Σ_j log P(w_j | context, w_<j, [MASK] for w_≥j)`` — the within-word left-to-right
        pseudo-log-likelihood (Salazar et al. 2020; Kauf & Ivanova 2023) of the candidate
        alone. For a one-piece candidate this is ``log P(w | template)`` at the mask
        (Goldberg 2019).

        Parameters
        ----------
        template
            A sentence with one ``[MASK]`` or ``{mask}``.
        candidates
            Words to compare (one or several pieces each).

        Returns
        -------
        dict
            ``{candidate: log-probability}`` in the order given.

        Raises
        ------
        InputError
            No or several masks, an empty candidate list, or a candidate that tokenizes to nothing.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.compare("The boys [MASK] shy.", ["are", "is"])  # doctest: +SKIP
        {'are': -0.4, 'is': -2.1}
        """
        return self.compare_many([template], [candidates])[0]

    def pll(self, sentences: Sequence[str], variant: PLLVariant = "original") -> np.ndarray:
        """Pseudo-log-likelihood of each sentence (Salazar et al. 2020).

        ``PLL(W) = Σ_t log P(w_t | W∖t)`` over every non-special token. With
        ``variant="within_word_l2r"`` (Kauf & Ivanova 2023) the later pieces of the same
        word are masked too when scoring ``w_t``, which removes the inflated scores of
        multi-piece words. Words are the tokenizer's ``word_ids()``.

        Parameters
        ----------
        sentences
            Texts to score.
        variant
            ``"original"`` or ``"within_word_l2r"``.

        Returns
        -------
        numpy.ndarray
            ``(len(sentences),)`` PLL in nats.

        Raises
        ------
        InputError
            Unknown variant, empty input, or a sentence longer than the model accepts.

        Examples
        --------
        >>> import bertology as bt
        >>> scorer = bt.MaskedLMScorer(bt.load_model("bert-base-uncased", head="mlm"))  # doctest: +SKIP
        >>> scorer.pll(["The keys to the cabinet are here."], variant="within_word_l2r").shape  # doctest: +SKIP
        (1,)
        """
        if variant not in PLL_VARIANTS:
            raise InputError(f"variant={variant!r} is not one of {PLL_VARIANTS}.")
        if isinstance(sentences, str):
            raise InputError("sentences must be a list of strings, not one string: wrap it as [sentence].")
        if len(sentences) == 0:
            raise InputError("No sentences given: pass at least one.")
        sequences, copies, owners = [], [], []
        for index, sentence in enumerate(sentences):
            if not isinstance(sentence, str) or not sentence.strip():
                raise InputError(f"Sentence {index} is empty or not a string ({sentence!r}).")
            encoding = self.encode(sentence)
            ids, words = encoding["input_ids"], encoding.word_ids()
            special = encoding["special_tokens_mask"]
            sequences.append(ids)
            for t in range(len(ids)):
                if special[t] or words[t] is None:
                    continue
                masked = [t]
                if variant == "within_word_l2r":
                    masked += [u for u in range(t + 1, len(ids)) if words[u] == words[t] and not special[u]]
                copies.append(MaskedCopy(index, tuple(masked), t, ids[t]))
                owners.append(index)
        scores, _, _ = score_copies(self.model, sequences, copies, self.max_tokens, progress=self.progress)
        return np.bincount(np.asarray(owners, dtype=np.int64), weights=scores, minlength=len(sentences))


def as_scorer(model: LoadedModel | MaskedLMScorer, max_tokens: int = 4096, progress: bool = True) -> MaskedLMScorer:
    """``model`` itself when it is already a scorer, otherwise a :class:`MaskedLMScorer` around it.

    Parameters
    ----------
    model
        A masked-LM model (``head="mlm"``) or a scorer.
    max_tokens, progress
        Settings of a new scorer (ignored when ``model`` is a scorer).

    Returns
    -------
    MaskedLMScorer

    Examples
    --------
    >>> import bertology as bt
    >>> scorer = as_scorer(bt.load_model("bert-base-uncased", head="mlm"), max_tokens=2048)  # doctest: +SKIP
    >>> as_scorer(scorer) is scorer  # doctest: +SKIP
    True
    """
    return model if isinstance(model, MaskedLMScorer) else MaskedLMScorer(model, max_tokens, progress)
