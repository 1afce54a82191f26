"""Punches: the pipeline from a phone's claim to a stored, chained, explained record."""
