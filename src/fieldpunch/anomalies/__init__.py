"""Anomaly detection: the facts a punch carries, the policy that judges them, and pure detectors."""
