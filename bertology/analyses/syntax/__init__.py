"""Syntax in encoders: Hewitt & Manning (2019) structural probes, Clark et al. (2019) dependency heads in
attention, Tenney et al. (2019) edge probing with a scalar mix, all from Universal Dependencies CoNLL-U files."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'names': ['STRUCTURAL_KINDS', 'SYNTAX_ANALYSES'],
        'task': ['save_syntax_figures', 'syntax_task'],
        'dependency_heads': ['dependency_heads', 'save_dependency_head_figures'],
        'heads_result': ['DependencyHeads'],
        'edge_data': ['EdgeData', 'EdgeExample', 'EdgeTarget', 'conllu_to_edges', 'edge_examples', 'load_edges',
                      'write_edges'],
        'scalar_mix': ['ScalarMix', 'center_of_gravity', 'cumulative_layers', 'expected_layer', 'score_deltas'],
        'edge_probe': ['EdgeProbeResult', 'SpanTargets', 'edge_probe', 'micro_f1', 'save_edge_probe_figures',
                       'span_features', 'train_edge_probes'],
        'structural': ['ProbeFit', 'structural_probe', 'train_probes'],
        'structural_result': ['StructuralProbeResult', 'save_structural_figures'],
        'trees': ['PUNCTUATION_XPOS', 'length_average', 'linear_chain_heads', 'minimum_spanning_tree',
                  'punctuation_mask', 'root_correct', 'spearman_rows', 'tree_depths', 'tree_distances',
                  'uuas_counts'],
    },
)
