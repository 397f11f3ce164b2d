"""Geometry of representations: projections, similarity across contexts, Ethayarajh's measures."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'ethayarajh': ['EthayarajhResult', 'anisotropy_baseline', 'ethayarajh_measures', 'intra_sentence_similarity', 'self_similarity'],
        'projection': ['ProjectionResult', 'pca_2d', 'project_layers', 'umap_2d'],
        'similarity': ['SimilarityResult', 'context_similarity', 'pair_similarities'],
        'task': ['geometry_task', 'save_geometry_figures'],
        'vectors': ['WordVectors', 'cosine_matrix', 'static_embeddings', 'word_vectors'],
    },
)
