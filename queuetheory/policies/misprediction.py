"""Policies module 'misprediction' (being written)."""

__all__: list[str] = []
