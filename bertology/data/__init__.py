"""Dataset readers and loaders."""

from bertology.data.loaders import ProbeDataset, load_coarsewsd20, load_sst2, load_table_dataset
from bertology.data.tables import column, read_table

__all__ = ["column", "read_table", "ProbeDataset", "load_coarsewsd20", "load_sst2", "load_table_dataset"]
