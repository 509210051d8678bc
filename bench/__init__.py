"""Benchmarks: `python -m bench.runtime`."""
