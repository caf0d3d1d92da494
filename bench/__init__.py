"""Benchmarks of perechen as whole processes (never timed tests): see bench/README.md."""
