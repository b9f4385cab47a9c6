"""The store's error types, apart so that every vectorstore module can raise them without importing the store."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be opened or used as configured."""


class StoreUnavailableError(StoreError):
    """The store failed, was reopened, and failed again: try again shortly (servers answer 503)."""
