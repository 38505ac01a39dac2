"""The garbage collector while the lab is on screen.

CPython's collector walks every object of its oldest generation in a full
collection, and a big lab keeps many (the engine's state, botocore's service
model, the widgets): measured on the 500 shards x 10 lab, a collection that
landed on a key press cost about 100 ms of that press, more than a frame.
Objects that live as long as the app are moved out of the collector's reach
(`gc.freeze`) once start-up is done and again after long work replaced the
lab's state, so collections walk only what was made since: the objects of
one step or one frame. Cyclic garbage made before a freeze is collected
first (`gc.collect`), and `settle` unfreezes before collecting, so an old
lab's objects are freed when another lab is opened.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what is left; returns how many objects are frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
