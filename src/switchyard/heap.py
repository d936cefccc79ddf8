"""Short garbage-collector pauses for long-running processes (`up`, `api`, `worker`).

Python's full collection walks every tracked object. After start-up a server
holds about 180,000 of them (modules, classes, pydantic schemas, SQLAlchemy
mappings) that live as long as the process, and under load (bench/triggers.py
at 50 events/s) full collections ran twice every 10 s and paused the whole
process for 130-400 ms each: a pause holds every request and every workflow
task. Freezing the start-up objects takes them out of those walks (pauses of
20-50 ms, measured the same way).
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> int:
    """Collect once, then exempt every surviving object from later collections.

    Call it once the process has started (imports done, app and worker built).
    Frozen objects are never freed, so this is for objects meant to live as
    long as the process. Returns how many objects are frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
