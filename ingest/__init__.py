"""Ingest: load articles, clean them, extract metadata, chunk, embed and store them."""
