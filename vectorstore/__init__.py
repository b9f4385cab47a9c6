"""Vector storage: the embedding model and the Chroma store (embedded on disk, or a server)."""
