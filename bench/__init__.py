"""Benchmarks: `python -m bench.<name>` prints figures and ends with one JSON object."""
