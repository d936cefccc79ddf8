"""The opsgenie integration (declarations; the implementation is imported on first call)."""
