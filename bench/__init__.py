"""Benchmarks: ingest, answer latency, needle recall, store scale, server load and cold start."""
