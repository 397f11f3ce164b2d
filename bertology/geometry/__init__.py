"""Geometry of representations: projections, similarity across contexts, Ethayarajh's measures."""

from bertology.geometry.ethayarajh import (EthayarajhResult, anisotropy_baseline, ethayarajh_measures,
                                           intra_sentence_similarity, self_similarity)
from bertology.geometry.projection import ProjectionResult, pca_2d, project_layers, umap_2d
from bertology.geometry.similarity import SimilarityResult, context_similarity, pair_similarities
from bertology.geometry.vectors import WordVectors, cosine_matrix, static_embeddings, word_vectors

__all__ = ["EthayarajhResult", "ProjectionResult", "SimilarityResult", "WordVectors", "anisotropy_baseline",
           "context_similarity", "cosine_matrix", "ethayarajh_measures", "intra_sentence_similarity", "pair_similarities",
           "pca_2d", "project_layers", "self_similarity", "static_embeddings", "umap_2d", "word_vectors"]
