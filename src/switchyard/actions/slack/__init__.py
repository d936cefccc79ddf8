"""The slack integration (declarations; the implementation is imported on first call)."""
