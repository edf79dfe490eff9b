"""Policies module 'skippredict' (being written)."""

__all__: list[str] = []
