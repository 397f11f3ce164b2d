"""Names of the similarity measures and feature kinds (free of heavy imports for the CLI)."""

METRICS = ("linear_cka", "rbf_cka", "minibatch_cka", "svcca", "pwcca", "procrustes")
"""Layer-comparison measures; ``procrustes`` is a distance (0 for the same representation), the others similarities."""

POOLS = ("all_words", "cls", "mean", "first", "last")
"""Features of a model: ``all_words`` (one row per whitespace word of every sentence) or one pooled row per sentence."""

DISTANCES = frozenset({"procrustes"})
