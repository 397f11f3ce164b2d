"""The foundation: models and adapters, hooks, extraction and the store, data readers, and the
helpers every analysis shares (errors, I/O, statistics, progress, distributed runs, figures, results)."""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__, submodules=["data", "distributed", "errors", "extraction", "hooks", "io", "manifest", "models",
                          "paths", "progress", "results", "stats", "viz"])
