"""Use cases of the backend; each owns its transaction."""
