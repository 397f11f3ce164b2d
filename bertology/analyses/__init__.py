"""The analyses: each builds on ``bertology.core`` only and exposes one task function."""
