# One image for the web server and the worker (docker-compose.yml runs both).
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake git \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY salesbot ./salesbot
COPY leads ./leads
COPY llm ./llm
# llama-cpp-python compiles llama.cpp here, for AVX2 as the Makefile does (not -march=native:
# the image runs on other CPUs than it was built on, and native builds crash on AMX CPUs). For
# NVIDIA GPUs build with --build-arg CMAKE_ARGS="-DGGML_CUDA=on" on a CUDA base image.
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
RUN CMAKE_ARGS="$CMAKE_ARGS" pip install --no-cache-dir -e .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
RUN python -m llm fetch-bundled --models-dir /app/models \
 && python -m llm fetch-embedding --models-dir /app/models \
 && DJANGO_SECRET_KEY=build STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput

ENV STATIC_ROOT=/app/staticfiles STATIC_USE_FINDERS=false LLM_MODELS_DIR=/app/models \
    SALESBOT_VAR_DIR=/app/var PYTHONUNBUFFERED=1
EXPOSE 8000
# --ws-max-size: 6 × CHAT_MAX_MESSAGE_CHARS + 4096 (leads/protocol.py); uvicorn's own default
# reads 16 MiB frames. The app writes its own access log, without query strings. No per-message
# deflate and no log line per connection: docs/benchmarks.md, "Many widgets on one web process".
CMD ["uvicorn", "salesbot.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--ws-max-size", "16096", "--ws-per-message-deflate", "false", "--no-access-log", "--log-level", "warning"]
