"""Benchmarks of the relay and the console (issue 8); see docs/performance.md.

Each benchmark is one module runnable as `python -m bench.<name>` (or `python bench/<name>.py`),
prints a table, writes its results as JSON under `bench/results/`, and has a `--smoke` size
that runs in seconds. Results are ratios against a floor measured in the same run, because
the machines are shared and noisy: an absolute number alone proves nothing.
"""
