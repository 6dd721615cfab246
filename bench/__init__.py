"""Benchmarks: `python bench/run.py [--quick]` (see bench/RESULTS.md). Not part of the tests."""
