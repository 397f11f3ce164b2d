"""Names of the syntax analyses and probe kinds (kept free of heavy imports for the CLI)."""

SYNTAX_ANALYSES = ("structural", "heads", "edges")
"""What :func:`~bertology.analyses.syntax.task.syntax_task` can run: structural probes, dependency heads, edge probing."""

STRUCTURAL_KINDS = ("distance", "depth")
"""Hewitt & Manning's (2019) two structural probes."""
