"""The engine: the interpreter workflows, their activities, worker and client."""
