"""Switchyard."""
