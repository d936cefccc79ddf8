"""The email integration (declarations; the implementation is imported on first call)."""
