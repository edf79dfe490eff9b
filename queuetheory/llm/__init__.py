"""LLM inference serving models (being written)."""

__all__: list[str] = []
