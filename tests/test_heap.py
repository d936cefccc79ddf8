"""`tune_garbage_collector`: what lives now leaves the collector's walks."""

from __future__ import annotations

import gc

from switchyard.heap import YOUNG_THRESHOLD, tune_garbage_collector


def test_objects_alive_now_leave_the_walks_and_the_young_are_collected_less_often() -> None:
    gc.unfreeze()
    threshold = gc.get_threshold()
    startup = ["made before the freeze"]
    try:
        frozen = tune_garbage_collector()
        assert frozen == gc.get_freeze_count() > 1000
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *threshold[1:])
        later = ["made after the freeze"]
        walked = {id(o) for o in gc.get_objects()}  # the generations a collection walks
        assert id(startup) not in walked
        assert id(later) in walked
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert id(startup) in {id(o) for o in gc.get_objects()}
