"""Photos: visit and correction evidence, re-encoded without metadata, kept in a storage."""
