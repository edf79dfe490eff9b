"""Policies module 'prediction' (being written)."""

__all__: list[str] = []
