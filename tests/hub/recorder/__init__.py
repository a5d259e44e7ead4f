"""Tests of hub.recorder."""
