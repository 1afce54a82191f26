"""Notifications: the in-app inbox, preferences, and delivery channels (email, web push, robots)."""
