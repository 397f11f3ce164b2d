"""Names of the erasure methods (free of heavy imports for the CLI)."""

METHODS = ("leace", "inlp")
