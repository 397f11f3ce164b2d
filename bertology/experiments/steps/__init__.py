"""Experiment steps; importing this package registers every step."""
