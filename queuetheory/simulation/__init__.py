"""Event-driven simulation of rank-based policies (being written)."""

__all__: list[str] = []
