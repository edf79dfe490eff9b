"""Policies module 'classic' (being written)."""

__all__: list[str] = []
