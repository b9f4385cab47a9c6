"""Load the query encoder on a thread while the main thread imports Gradio and builds the page.

Both take time and mostly wait on different things (file reads and native code vs Python imports), so
`citebot serve` is ready after the slower of the two rather than after their sum. When the encoder had to be
torch (no ONNX export yet), the export is made once the server runs, so the next start is the fast one.
"""

from __future__ import annotations

import logging
import threading

from vectorstore.config import StoreConfig
from vectorstore.embeddings import SentenceTransformerEmbedder
from vectorstore.onnx_encoder import OnnxEmbedder, export_if_missing

log = logging.getLogger("citebot.warmup")


class ModelWarmup:
    """Loads the weights and runs one encode (the first one pays for the runtime's lazy set-up)."""

    def __init__(self, embedder: SentenceTransformerEmbedder | OnnxEmbedder) -> None:
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


def export_in_background(embedder: SentenceTransformerEmbedder, config: StoreConfig) -> threading.Thread:
    """Export the (loaded) torch model to ONNX on a daemon thread; a failure only costs the fast start."""

    def run() -> None:
        try:
            if export_if_missing(embedder, config, log.warning):
                log.warning("ONNX export done: the next start loads the question encoder without torch")
        except Exception:
            log.exception("could not export the embedding model to ONNX; starts keep loading torch")

    thread = threading.Thread(target=run, name="citebot-onnx-export", daemon=True)
    thread.start()
    return thread
