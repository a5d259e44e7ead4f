"""Tests of the bollards integration."""
