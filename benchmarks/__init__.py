"""Speed and memory measurements against named baselines (run as modules, not as tests)."""
