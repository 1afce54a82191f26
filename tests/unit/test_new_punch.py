"""NewPunch is the one list of a punch's fields: the table, the ledger and the detectors agree."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from fieldpunch.anomalies.engine import Stored, facts_of
from fieldpunch.db.base import table_of
from fieldpunch.punches.models import Punch
from fieldpunch.punches.rows import NewPunch, ledger_content

AT = datetime(2026, 12, 5, 8, 30, tzinfo=UTC)


def _punch() -> NewPunch:
    return NewPunch(
        id="pun_1",
        org_id="org_1",
        user_id="usr_1",
        client_id="c-1",
        content_hash="h",
        kind="clock_in",
        status="accepted",
        source="app",
        captured_at=AT,
        received_at=AT,
        trusted_time=AT,
        time_source="server",
        lat=31.2,
        lon=121.4,
        accuracy_m=5.0,
        raw_lat=31.2,
        raw_lon=121.4,
        mock=False,
        fusion={"used": [], "rejected": []},
        place_id="plc_1",
        customer_id=None,
        distance_m=3.0,
        visit_id=None,
        photo_id=None,
        note="",
        offline=False,
        device_id="dev_1",
        signature_ok=True,
        anomalies=[{"rule": "mock_location"}, {"rule": "duplicate"}],
        payload={},
        facts={"fence_id": "plc_1", "trust": []},
        names={"plc_1": "Office"},
    )


def test_its_row_is_every_column_of_the_table() -> None:
    assert set(_punch().columns()) == set(table_of(Punch).c.keys())


def test_the_ledger_commits_to_what_it_always_did() -> None:
    content = ledger_content(_punch())
    assert set(content) == {
        "punch_id", "client_id", "content_hash", "kind", "status", "source", "captured_at",
        "received_at", "trusted_time", "lat", "lon", "accuracy_m", "raw_lat", "raw_lon", "mock",
        "place_id", "customer_id", "distance_m", "visit_id", "photo_id", "note", "device_id",
        "signature_ok", "anomalies",
    }  # fmt: skip
    assert content["trusted_time"] == "2026-12-05T08:30:00.000000+00:00"
    assert content["anomalies"] == ["duplicate", "mock_location"]
    stored = Punch(**_punch().columns())  # a stored row commits to the same
    assert ledger_content(stored) == content


def test_the_window_reads_fields_of_a_new_punch() -> None:
    assert set(Stored.__slots__) <= {f.name for f in fields(NewPunch)}  # type: ignore[attr-defined]
    assert facts_of(_punch()).fence_id == "plc_1"
