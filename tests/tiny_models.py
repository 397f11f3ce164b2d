"""Tiny seeded models of every supported architecture, built offline from configs.

Three real tokenizer families are covered: WordPiece (the bundled MiniLM's
bert-base-uncased vocabulary), byte-level BPE (RoBERTa style) and Unigram with
Metaspace (XLM-R / DeBERTa-v2 style), the latter two trained here on a small corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
import transformers as tf
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from bertology.core.models import minilm_path

ARCHITECTURES = ("bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta-v2")
HIDDEN, LAYERS, HEADS, FFN, POSITIONS = 32, 3, 4, 37, 128

_WORDS = ("the bank of river city closed open boys girls are is was were keys cabinet here there "
          "doctor nurse woman man works as a in hospital film loved hated great terrible it's can't "
          "apple fruit company phone bat cave baseball played ran quickly slowly teacher student "
          "colour sky blue banana yellow grass green people who we they he she his her their").split()


def training_corpus() -> list[str]:
    generator = torch.Generator().manual_seed(0)
    sentences = []
    for _ in range(400):
        picks = torch.randint(0, len(_WORDS), (8,), generator=generator).tolist()
        sentences.append(" ".join(_WORDS[i] for i in picks).capitalize() + ".")
    return sentences + ["Don't stop, it's the bank's vault!", "Hello, world: (test) -- done?"]


def _bpe_tokenizer() -> tf.PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(training_corpus(), trainers.BpeTrainer(
        vocab_size=600, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True)
    return tf.RobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                   cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")


def _unigram_tokenizer(style: str) -> tf.PreTrainedTokenizerFast:
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    if style == "xlm-roberta":
        special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        cls, sep = "<s>", "</s>"
    else:
        special = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
        cls, sep = "[CLS]", "[SEP]"
    tok.train_from_iterator(training_corpus(), trainers.UnigramTrainer(vocab_size=500, special_tokens=special,
                                                                        unk_token=special[3]))
    cls_id, sep_id = tok.token_to_id(cls), tok.token_to_id(sep)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B {sep}", special_tokens=[(cls, cls_id), (sep, sep_id)])
    return tf.PreTrainedTokenizerFast(tokenizer_object=tok, cls_token=cls, sep_token=sep, pad_token=special[0 if style != "xlm-roberta" else 1],
                                      unk_token=special[3], mask_token=special[4],
                                      bos_token=cls, eos_token=sep)


def tokenizer_for(arch: str) -> tf.PreTrainedTokenizerFast:
    """The tokenizer family a real checkpoint of ``arch`` would use."""
    if arch == "roberta":
        return _bpe_tokenizer()
    if arch in ("xlm-roberta", "deberta-v2"):
        return _unigram_tokenizer(arch)
    return tf.AutoTokenizer.from_pretrained(minilm_path())


def config_for(arch: str, tokenizer: tf.PreTrainedTokenizerFast, num_labels: int = 2) -> tf.PretrainedConfig:
    common = dict(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, num_labels=num_labels,
                  id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    bert_like = dict(hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                     intermediate_size=FFN, max_position_embeddings=POSITIONS, **common)
    if arch == "distilbert":
        return tf.DistilBertConfig(dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS, hidden_dim=FFN,
                                   max_position_embeddings=POSITIONS, **common)
    if arch == "albert":
        return tf.AlbertConfig(embedding_size=16, **bert_like)
    if arch == "electra":
        return tf.ElectraConfig(embedding_size=16, **bert_like)
    if arch == "deberta-v2":
        return tf.DebertaV2Config(relative_attention=True, position_buckets=16, pos_att_type=["p2c", "c2p"],
                                  type_vocab_size=0, **bert_like)
    if arch in ("roberta", "xlm-roberta"):
        bert_like["max_position_embeddings"] = POSITIONS + tokenizer.pad_token_id + 1
        return tf.AutoConfig.for_model(arch, **bert_like)
    return tf.BertConfig(**bert_like)


_HEADS = {"base": tf.AutoModel, "mlm": tf.AutoModelForMaskedLM, "classifier": tf.AutoModelForSequenceClassification,
          "token-classifier": tf.AutoModelForTokenClassification,
          "regression": tf.AutoModelForSequenceClassification, "steep-classifier": tf.AutoModelForSequenceClassification}


def build_tiny_model(arch: str, head: str, directory: Path, seed: int = 0) -> Path:
    """Save a seeded random ``arch`` model with ``head`` weights and its tokenizer to ``directory``.

    ``head="regression"`` is a sequence-classification model with one output and
    ``problem_type="regression"`` (an STS-B-style regressor whose output is called ``similarity``),
    initialised with ten times the usual spread so its output moves visibly with the input;
    load it with ``head="classifier"``. ``head="steep-classifier"`` is a sequence classifier with that
    spread (at the usual spread its probabilities stay near 0.5 and attribution scores near 1e-6, too flat
    to tell two attribution procedures apart); load it with ``head="classifier"`` too.
    """
    tokenizer = tokenizer_for(arch)
    config = config_for(arch, tokenizer)
    if head == "regression":
        config.num_labels, config.problem_type, config.initializer_range = 1, "regression", 0.2
        config.id2label, config.label2id = {0: "similarity"}, {"similarity": 0}
    if head == "steep-classifier":
        config.initializer_range = 0.2
    torch.manual_seed(seed)
    model = _HEADS[head].from_config(config).eval()
    if directory.exists():
        shutil.rmtree(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_context_mlm(arch: str, directory: Path, seed: int = 0, initializer_range: float = 0.2) -> Path:
    """Save a seeded random ``arch`` masked LM whose predictions depend on the context by nats.

    With the default ``initializer_range=0.02`` a tiny random MLM is almost context-free, so two
    scoring procedures that mask or write back different tokens give nearly the same numbers;
    weights ten times larger make a changed context move log-probabilities by nats, which is
    what tests comparing a procedure with its reference need.
    """
    tokenizer = tokenizer_for(arch)
    config = config_for(arch, tokenizer)
    config.initializer_range = initializer_range
    torch.manual_seed(seed)
    model = tf.AutoModelForMaskedLM.from_config(config).eval()
    if directory.exists():
        shutil.rmtree(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
