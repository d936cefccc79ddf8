"""The github integration (declarations; the implementation is imported on first call)."""
