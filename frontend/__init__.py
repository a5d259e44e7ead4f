"""Operator web frontend, one view per control centre."""
