"""`freeze_startup_objects`: what lives now is out of the collector's walks."""

from __future__ import annotations

import gc

from switchyard.heap import freeze_startup_objects


def test_objects_alive_at_freeze_leave_the_walks_and_later_ones_do_not() -> None:
    gc.unfreeze()
    startup = ["made before the freeze"]
    try:
        frozen = freeze_startup_objects()
        assert frozen == gc.get_freeze_count() > 1000
        later = ["made after the freeze"]
        walked = {id(o) for o in gc.get_objects()}  # the generations a collection walks
        assert id(startup) not in walked
        assert id(later) in walked
    finally:
        gc.unfreeze()
    assert id(startup) in {id(o) for o in gc.get_objects()}
