"""Load the embedding model on a thread while the main thread imports Gradio and builds the page.

Both take seconds and mostly wait on different things (file reads and torch's C code vs Python imports), so
`citebot serve` is ready after the slower of the two rather than after their sum.
"""

from __future__ import annotations

import threading

from vectorstore.embeddings import SentenceTransformerEmbedder


class ModelWarmup:
    """Loads the weights and runs one encode (the first one pays for torch's lazy set-up)."""

    def __init__(self, embedder: SentenceTransformerEmbedder) -> None:
        self.embedder = embedder
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="citebot-model-warmup", daemon=True)

    def start(self) -> ModelWarmup:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.embedder.load()
            self.embedder.embed(["warm up"])
        except BaseException as exc:  # handed to the main thread by wait()
            self.error = exc

    def wait(self) -> None:
        """Block until loaded; re-raise the loader's error here, where the caller can report it."""
        self._thread.join()
        if self.error is not None:
            raise self.error
