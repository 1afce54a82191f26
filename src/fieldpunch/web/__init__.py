"""The built web apps (source in `web/` at the repository root; `make web` builds into `dist/`)."""
