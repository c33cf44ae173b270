# One image for web and worker (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      espeak-ng ffmpeg festival festvox-kallpc16k libsndfile1 libgl1 curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY detector detector
COPY generators generators
COPY worker worker
COPY web web
COPY models models
RUN pip install --no-cache-dir . && provscan models build --missing-only
ENV PROVSCAN_DATA_DIR=/data PROVSCAN_MODELS_DIR=/app/models
VOLUME ["/data"]
EXPOSE 8000
CMD ["provscan", "serve", "--host", "0.0.0.0", "--port", "8000"]
