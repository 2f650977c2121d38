"""Benchmark harness: `python -m bench.seed` (bulk data) and `python -m bench.run` (the benchmark).

See docs/performance.md.
"""
