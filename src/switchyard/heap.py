"""Garbage-collector settings for long-running processes (`up`, `api`, `worker`).

Measured with bench/triggers.py (50 events/s through the API, this process
also running the worker and the run recorder):

- Python's full collection walks every tracked object. After start-up a
  server holds about 180,000 of them (modules, classes, pydantic schemas,
  SQLAlchemy mappings) that live as long as the process; full collections
  ran twice every 10 s and paused the whole process for 130-400 ms each (a
  pause holds every request and every workflow task). Freezing the start-up
  objects takes them out of those walks: pauses of 20-50 ms.
- The youngest generation was collected about 25 times a second (every 700
  new container objects) and the middle one twice a second. Collecting the
  youngest every 10,000 instead spent 40% less time collecting in all
  (0.45-0.73 s against 0.76-1.33 s over 30 s, two pairs of runs); the longest
  pause stayed under 140 ms.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "tune_garbage_collector"]

#: New container objects between two collections of the youngest generation.
YOUNG_THRESHOLD = 10_000


def tune_garbage_collector() -> int:
    """Freeze what is alive now and collect the youngest generation less often.

    Call it once the process has started (imports done, app and worker
    built): frozen objects are never freed, so this is for objects meant to
    live as long as the process. Returns how many objects are frozen.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
    return gc.get_freeze_count()
