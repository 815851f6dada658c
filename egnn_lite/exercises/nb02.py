"""Checkers for the exercises of notebooks/02 (numerical equivariance checks)."""
