"""Policies module 'custom' (being written)."""

__all__: list[str] = []
