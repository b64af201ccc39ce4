"""Benchmark scripts (each prints a table; `make bench` runs them all) and their helpers."""
