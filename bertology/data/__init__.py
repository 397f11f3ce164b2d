"""Dataset readers and loaders."""

from bertology.data.loaders import ProbeDataset, load_coarsewsd20, load_sst2, load_table_dataset
from bertology.data.tables import column, find_text_column, int_column, read_table

__all__ = ["column", "find_text_column", "int_column", "read_table", "ProbeDataset", "load_coarsewsd20", "load_sst2", "load_table_dataset"]
