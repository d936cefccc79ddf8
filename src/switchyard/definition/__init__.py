"""Workflow definitions: the typed model, loading, validation and graph helpers.

Import from the modules (`model`, `loader`, `validate`, `graph`, `inputs`);
this package imports nothing so that `switchyard --help` stays fast.
"""
