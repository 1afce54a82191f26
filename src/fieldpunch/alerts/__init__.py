"""Violation alerts: critical live anomalies to the managers at once, escalation when unreviewed."""
