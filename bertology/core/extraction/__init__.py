"""Word alignment, pooling, batching and the on-disk ActivationStore."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'align': ['EncodedCorpus', 'encode_corpus', 'length_sorted_batches', 'pad_sequences', 'target_spans',
                  'word_char_span'],
        'extractor': ['batch_tensors', 'check_extract_arguments', 'extract', 'fill_store', 'parse_layers',
                      'resolve_layers', 'sentence_batches'],
        'features': ['auto_pool', 'layer_features'],
        'task': ['extract_task'],
        'pooling': ['POOLINGS', 'PoolingInputs', 'pool_layers', 'resolve_pooling'],
        'store': ['ActivationStore', 'StoreLock', 'StoreWriter'],
        'words': ['WordVectors', 'word_vectors'],
    },
)
