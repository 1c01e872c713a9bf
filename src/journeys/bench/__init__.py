"""Benchmarks: the harness is part of the product (`journeys bench ...`). See BENCHMARKS.md."""
