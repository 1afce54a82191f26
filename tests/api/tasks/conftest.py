"""The task tests run jobs as the visit tests do (no runner in the app, no sleeps)."""

from tests.api.visits.conftest import Jobs, jobs, settings

__all__ = ["Jobs", "jobs", "settings"]
