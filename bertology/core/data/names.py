"""Names of the labelled datasets bertology reads (kept free of heavy imports for the CLI)."""

WORD_TAGS = ("upos", "xpos", "deprel")
"""Per-word tags of a CoNLL-U treebank that are probing datasets (Hewitt & Liang 2019's tasks)."""

DATASETS = ("coarsewsd20", "sst2", "table", *WORD_TAGS)

SUITES = {"agreement": "choice", "pronoun": "choice", "telicity": "choice", "color": "choice",
          "gender-occupation": "bias"}
"""The cloze suites bertology ships and their schema (see :mod:`bertology.core.data.cloze_suites`)."""
