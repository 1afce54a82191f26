"""Python's cyclic garbage collector, set for a long-running server process.

With the defaults, a busy server spends a noticeable share of its CPU collecting: young
collections run mid-request (threshold 700), while a request's temporaries are still alive, and
traverse them again as survivors; full collections of the whole heap pause every request in
flight. `settle()` freezes what start-up built and collects the young generation far less often.
Measured: docs/performance.md ("The garbage collector", fourth round).
"""

from __future__ import annotations

import gc

# Container objects allocated (net of those freed) between young collections; the default is
# 700. Most of a request's temporaries die by reference counting before the collector runs.
YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Once start-up is done: collect, move what is left (modules, classes, the app) out of the
    collector's reach for good (`gc.freeze`), and collect the young generation less often.

    Only at start-up, with no request in flight: a frozen object is never collected, so objects of
    a request frozen mid-way would leak if they formed a cycle.
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
