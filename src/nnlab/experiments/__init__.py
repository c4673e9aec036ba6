"""Reproducible experiments: each module has a ``run(...)`` returning its metrics."""
