"""The detectors' memory kept on the chain head: it judges like the facts, and stale is unused."""

from __future__ import annotations

import json

from hypothesis import given, settings

from fieldpunch.anomalies import memory
from fieldpunch.anomalies.detectors import PersonState, step
from fieldpunch.anomalies.facts import PunchFacts
from fieldpunch.anomalies.policy import resolve
from tests.unit.anomalies.tracks import SH, in_order, local, policy_of, punch, tracks


@settings(max_examples=60, deadline=None)
@given(tracks(days=7))
def test_carrying_the_stored_memory_judges_like_folding_the_facts(
    track: list[PunchFacts],
) -> None:
    """What the chain head keeps of earlier punches (a few fields each) is all the rules read."""
    ordered = sorted(track, key=lambda p: (p.trusted_time, p.id))
    state, got = PersonState(), {}
    for seq, p in enumerate(ordered):
        state, got[p.id] = step(state, p, policy_of(p), SH)
        kept = json.loads(
            json.dumps(memory.dump(state, seq=seq, tz=SH.key, upto=(p.trusted_time, p.id)))
        )
        assert memory.upto(kept, seq=seq, tz=SH.key) == (p.trusted_time, p.id)
        state = memory.state(kept, user_id=p.user_id)
    assert got == in_order(track)


def test_a_stale_memory_is_not_used() -> None:
    state, _ = step(PersonState(), punch("in", at="09:00"), resolve(), SH)
    kept = memory.dump(state, seq=3, tz=SH.key, upto=(local("09:00"), "in"))
    assert memory.upto(kept, seq=3, tz=SH.key) is not None
    assert memory.upto(kept, seq=4, tz=SH.key) is None  # the chain moved on
    assert memory.upto(kept, seq=3, tz="Asia/Urumqi") is None  # other days
    assert memory.upto({**kept, "v": 0}, seq=3, tz=SH.key) is None
    assert memory.upto(None, seq=0, tz=SH.key) is None
