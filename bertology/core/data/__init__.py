"""Dataset readers and loaders."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        'conllu': ['DependencySentence', 'Treebank', 'load_conllu'],
        'dataset': ['ProbeDataset'],
        'loaders': ['load_dataset', 'load_coarsewsd20', 'load_sst2', 'load_table_dataset'],
        'tables': ['column', 'find_text_column', 'int_column', 'read_table'],
        'word_tasks': ['word_task'],
        'names': ['DATASETS', 'WORD_TAGS'],
    },
)
