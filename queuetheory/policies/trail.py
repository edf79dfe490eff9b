"""Policies module 'trail' (being written)."""

__all__: list[str] = []
