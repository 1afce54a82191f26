"""fieldpunch: self-hostable, trustworthy field check-in."""

__version__ = "0.1.0"
