"""Tests of the agencies integration."""
