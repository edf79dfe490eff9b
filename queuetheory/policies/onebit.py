"""Policies module 'onebit' (being written)."""

__all__: list[str] = []
