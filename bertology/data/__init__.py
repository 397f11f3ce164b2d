"""Dataset readers and loaders."""

from bertology.data.tables import column, read_table

__all__ = ["column", "read_table"]
