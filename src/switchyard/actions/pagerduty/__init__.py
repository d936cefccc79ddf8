"""The pagerduty integration (declarations; the implementation is imported on first call)."""
