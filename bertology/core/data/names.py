"""Names of the labelled datasets bertology reads (kept free of heavy imports for the CLI)."""

DATASETS = ("coarsewsd20", "sst2", "table")
