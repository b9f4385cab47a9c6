"""Stored conversations and the feedback given on their answers (SQLAlchemy; SQLite by default)."""
