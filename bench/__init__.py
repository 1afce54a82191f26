"""Benchmarks of pure components; run each as a module, e.g. `python -m bench.geofence`."""
