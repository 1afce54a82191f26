"""Organizations: the tenant boundary."""
