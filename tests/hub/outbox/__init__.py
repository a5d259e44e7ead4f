"""Tests of hub.outbox."""
