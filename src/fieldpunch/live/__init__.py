"""Live events for dashboards."""
