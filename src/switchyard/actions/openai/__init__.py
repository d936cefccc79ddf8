"""The openai integration (declarations; the implementation is imported on first call)."""
