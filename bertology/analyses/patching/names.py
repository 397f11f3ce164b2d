"""Names of the patching suites and components (free of heavy imports for the CLI)."""

SUITES = ("agreement", "gender-occupation", "pronoun")
COMPONENTS = ("resid", "heads")
