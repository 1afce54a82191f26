"""Pure geometry: coordinate systems, distances, geofences. No I/O."""
