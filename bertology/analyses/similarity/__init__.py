"""Representation similarity: layer × layer CKA, SVCCA, PWCCA and Procrustes, within a model or across two."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'api': ['check_similarity_arguments', 'is_store', 'similarity'],
        'features': ['count_rows', 'model_features', 'word_features'],
        'measures': ['Principal', 'Whitened', 'canonical_correlations', 'center_gram', 'check_cca_rows', 'cka',
                     'covariance', 'gram_linear', 'gram_rbf', 'hsic_unbiased', 'hsic_unbiased_matrix', 'linear_cka',
                     'linear_cka_from_covariance', 'minibatch_cka', 'minibatches', 'principal_directions',
                     'procrustes', 'procrustes_from_covariance', 'pwcca', 'pwcca_from_covariance', 'rbf_cka',
                     'svcca', 'svcca_from_covariance', 'whiten'],
        'names': ['METRICS', 'POOLS'],
        'result': ['SimilarityMatrix'],
        'streaming': ['GramAccumulator', 'LayerCovariances', 'layer_similarity', 'rbf_cka_matrix',
                      'stream_covariances', 'stream_minibatch_cka'],
        'task': ['save_similarity_figures', 'similarity_task'],
    },
)
