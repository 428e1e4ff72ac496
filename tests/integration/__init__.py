"""Integration tests against real Postfix and unbound."""
