"""Word alignment, pooling, batching and the on-disk ActivationStore."""

from bertology.extract.align import EncodedCorpus, encode_corpus, length_sorted_batches, pad_sequences, word_char_span
from bertology.extract.extractor import batch_tensors, extract, resolve_layers
from bertology.extract.pooling import POOLINGS, PoolingInputs, pool_layers, resolve_pooling
from bertology.extract.store import ActivationStore, StoreWriter

__all__ = ["POOLINGS", "ActivationStore", "EncodedCorpus", "PoolingInputs", "StoreWriter", "batch_tensors",
           "encode_corpus", "extract", "length_sorted_batches", "pad_sequences", "pool_layers", "resolve_layers", "resolve_pooling",
           "word_char_span"]
