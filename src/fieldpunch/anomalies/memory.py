"""The detectors' state of one person, kept on their chain head between intakes.

An in-order punch (the usual case: later than everything the person has punched) is judged by one
`step` from this memory instead of re-reading and re-folding the person's recent punches. The
memory is only trusted when it is provably the state after the person's whole history:

* it was written at the chain position the head is at now (`seq`): anything else that moved the
  head (a review decision, a punch written by older code) makes it stale, never wrong;
* it was folded in the organisation's current time zone (local days are part of it);
* every new punch sorts after the last punch folded into it (`upto`).

Otherwise the service re-folds the window (`engine.context`) and writes a fresh memory. The state
is independent of the policy (detectors keep it up to date even while their rule is off), so a
policy change does not invalidate it.

A remembered punch keeps only what detectors read of earlier punches (time, position, accuracy,
kind, customer); `tests/unit/test_detector_memory.py` checks that carrying it gives the same
findings as folding the full facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from fieldpunch.anomalies.detectors import PersonState
from fieldpunch.anomalies.facts import PunchFacts

VERSION = 1


def _punch(p: PunchFacts) -> list[Any]:
    return [p.id, p.kind, p.trusted_time.isoformat(), p.lat, p.lon, p.accuracy_m, p.customer_id]


def _facts(user_id: str, item: list[Any]) -> PunchFacts:
    pid, kind, at, lat, lon, accuracy, customer = item
    t = datetime.fromisoformat(at)
    return PunchFacts(
        id=pid,
        user_id=user_id,
        kind=kind,
        trusted_time=t,
        captured_at=t,
        received_at=t,
        time_source="server",
        offline=False,
        lat=lat,
        lon=lon,
        accuracy_m=accuracy,
        raw_lat=lat,
        raw_lon=lon,
        mock=False,
        device_id=None,
        customer_id=customer,
    )


def dump(state: PersonState, *, seq: int, tz: str, upto: tuple[datetime, str]) -> dict[str, Any]:
    """JSON for the chain head: the state after the punch `upto` (trusted time, id), at `seq`."""
    return {
        "v": VERSION,
        "seq": seq,
        "tz": tz,
        "upto": [upto[0].isoformat(), upto[1]],
        "previous": None if state.previous is None else _punch(state.previous),
        "kinds": {k: _punch(p) for k, p in state.last_of_kind.items()},
        "visits": {c: _punch(p) for c, p in state.open_visits.items()},
        "day": None if state.clocked_in_day is None else state.clocked_in_day.isoformat(),
    }


def upto(memory: Mapping[str, Any] | None, *, seq: int, tz: str) -> tuple[datetime, str] | None:
    """The (trusted time, id) the memory reaches, or None when it is missing or stale (above)."""
    if (
        not memory
        or memory.get("v") != VERSION
        or memory.get("seq") != seq
        or memory.get("tz") != tz
    ):
        return None
    at, pid = memory["upto"]
    return datetime.fromisoformat(at), pid


def state(memory: Mapping[str, Any], *, user_id: str) -> PersonState:
    """The state kept in a memory that `upto` found current."""
    prev = memory["previous"]
    day = memory["day"]
    return PersonState(
        previous=None if prev is None else _facts(user_id, prev),
        last_of_kind=MappingProxyType({k: _facts(user_id, p) for k, p in memory["kinds"].items()}),
        open_visits=MappingProxyType({c: _facts(user_id, p) for c, p in memory["visits"].items()}),
        clocked_in_day=None if day is None else date.fromisoformat(day),
    )
