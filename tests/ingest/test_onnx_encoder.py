"""The ONNX question encoder against the real sentence-transformers model: same vectors, and a start without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vectorstore.config import StoreConfig
from vectorstore.embeddings import EmbeddingError
from vectorstore.onnx_encoder import META_FILE, OnnxEmbedder, export_if_missing, export_onnx, exportable

TEXTS = [
    "Which Iranian president is going to visit Moscow to sign the pact?",
    "The Kelderwick Observatory reopened on 12 May 2025 after a two-year renovation.",
    "ok",
    "Zürich's café owners said «non» to the 3.5% levy — again.",
    # Longer than the model's 256-token window: both must truncate it the same way.
    " ".join(f"Sentence {i} talks about harbour cranes, tariffs and the weather in Rotterdam." for i in range(60)),
]


@pytest.fixture(scope="module")
def exported(real_embedder, tmp_path_factory) -> Path:
    return export_onnx(real_embedder, tmp_path_factory.mktemp("onnx") / "export")


def test_the_export_gives_the_same_vectors_as_sentence_transformers(real_embedder, exported):
    onnx = OnnxEmbedder(path=exported, name=real_embedder.name, batch_size=2)
    got, want = onnx.embed(TEXTS), real_embedder.embed(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(got * want, axis=1))) >= 0.9999
    assert onnx.token_lengths(TEXTS) == real_embedder.token_lengths(TEXTS)
    assert onnx.embed([]).shape == (0, 384)


def test_from_config_uses_the_export_only_for_its_own_model_and_the_onnx_runtime(real_embedder, exported, tmp_path):
    cfg = StoreConfig(chroma_path=tmp_path / "chroma", onnx_model_dir=exported)
    assert OnnxEmbedder.from_config(cfg) is not None
    assert OnnxEmbedder.from_config(cfg.model_copy(update={"embedding_runtime": "torch"})) is None
    assert OnnxEmbedder.from_config(cfg.model_copy(update={"onnx_model_dir": tmp_path / "none"})) is None
    assert not OnnxEmbedder.ready_at(exported, "some/other-model")
    # Readable by the other users of a shared cache (a container builds it as root).
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in [exported, *exported.iterdir()])
    # Already exported: nothing to do.
    assert export_if_missing(real_embedder, cfg) is None


def test_a_damaged_export_is_a_clear_error(real_embedder, exported, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("tokenizer.json", META_FILE):
        (broken / name).write_bytes((exported / name).read_bytes())
    (broken / "model.onnx").write_bytes(b"\x00not an onnx graph")
    with pytest.raises(EmbeddingError, match="Delete that folder"):
        OnnxEmbedder(path=broken, name=real_embedder.name).embed(["hello"])


def test_only_mean_pooled_transformers_are_exported(real_embedder, tmp_path):
    assert exportable(real_embedder.model_path)
    cls_pooled = tmp_path / "cls-model"
    (cls_pooled / "1_Pooling").mkdir(parents=True)
    (cls_pooled / "tokenizer.json").write_text("{}")
    (cls_pooled / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    (cls_pooled / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    assert not exportable(cls_pooled)
    assert not exportable(tmp_path / "missing")


def test_with_an_export_the_bot_is_built_without_importing_torch(exported, seeded_store_factory, tmp_path):
    store_cfg = seeded_store_factory()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")},
           "CITEBOT_CHROMA_PATH": str(store_cfg.chroma_path), "CITEBOT_COLLECTION": store_cfg.collection,
           "CITEBOT_ONNX_MODEL_DIR": str(exported), "CITEBOT_DATA_DIR": str(tmp_path / "data")}
    script = ("import sys; from citebot.deps import build_deps; d = build_deps(); "
              "p = d.retriever.search('When will Pezeshkian visit Moscow?'); "
              "print(type(d.embedder).__name__, 'torch' in sys.modules, len(p))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    kind, torch_loaded, passages = out.stdout.split()
    assert (kind, torch_loaded) == ("OnnxEmbedder", "False") and int(passages) > 0


def test_citebot_prepare_builds_the_export_and_says_where(tmp_path):
    from vectorstore.config import DEFAULT_MODEL

    bin_ = Path(sys.executable).parent / "citebot"
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(tmp_path / "store"), "CITEBOT_ONNX_MODEL_DIR": str(tmp_path / "onnx")}
    out = subprocess.run([str(bin_), "prepare"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"ONNX question encoder: {tmp_path / 'onnx'}" in out.stdout
    assert OnnxEmbedder.ready_at(tmp_path / "onnx", DEFAULT_MODEL)
    (tmp_path / "file").write_text("not a folder")
    bad = subprocess.run([str(bin_), "prepare"], capture_output=True, text=True, timeout=300,
                         env={**env, "CITEBOT_ONNX_MODEL_DIR": str(tmp_path / "file" / "onnx")})
    assert bad.returncode != 0 and "CITEBOT_ONNX_MODEL_DIR" in bad.stderr and "Traceback" not in bad.stderr


def test_a_server_started_without_an_export_answers_with_torch_and_leaves_one_for_the_next_start(
        seeded_store_factory, tmp_path):
    import time

    import httpx
    from helpers import free_port, wait_for

    from vectorstore.config import DEFAULT_MODEL

    store_cfg = seeded_store_factory()
    port = free_port()
    env = {**os.environ, "CITEBOT_CHROMA_PATH": str(store_cfg.chroma_path), "CITEBOT_COLLECTION": store_cfg.collection,
           "CITEBOT_ONNX_MODEL_DIR": str(tmp_path / "onnx"), "CITEBOT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "citebot"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", proc, timeout=240, what="citebot serve")
        answer = httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": "When will Pezeshkian visit Moscow?"},
                            timeout=120).json()
        assert answer["citations"] and not answer["abstained"]
        deadline = time.monotonic() + 180
        while not OnnxEmbedder.ready_at(tmp_path / "onnx", DEFAULT_MODEL):
            assert time.monotonic() < deadline, "the server did not export the question encoder"
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
