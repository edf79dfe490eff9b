"""Symbolic derivations with sympy (being written)."""

__all__: list[str] = []
