"""Block Kit: pure functions from domain objects to message and view payloads."""
