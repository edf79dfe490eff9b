"""Policies module 'gittins' (being written)."""

__all__: list[str] = []
