"""Differentiable operations, grouped by family. Each op is a Function over NumPy arrays."""
