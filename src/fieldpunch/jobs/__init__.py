"""Work after commit: the outbox and what publishes it."""
