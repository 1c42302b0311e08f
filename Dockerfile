# One image for every service in docker-compose.yml: web, workers, scheduler and `rembg s`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    REMBG_HOME=/opt/darkroom/rembg

# libmariadb for mysqlclient; curl for the health checks; jemalloc for the workers' memory.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb-dev pkg-config gcc curl libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/local/lib/libjemalloc.so.2
# glibc's malloc keeps a rembg worker's freed inference buffers in fragmented per-thread arenas
# (1 GiB RSS and more at 1024 px); jemalloc returns them: a third of that (docs/benchmarks.md).
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2

WORKDIR /app
COPY requirements/ requirements/
# The lock (`make lock`): every package pinned with its hashes, `rembg s`'s included.
RUN pip install --no-cache-dir --require-hashes -r requirements/production.txt
# The GPU worker's image (compose profile gpu, --build-arg GPU=1): onnxruntime-gpu in place of
# onnxruntime, by range from requirements/gpu.in (it has no hashed lock).
ARG GPU=""
RUN if [ -n "$GPU" ]; then pip uninstall -y onnxruntime && pip install --no-cache-dir -r requirements/gpu.in ; fi

COPY . .
# Models are fetched at build time, so no worker or rembg server downloads at job time; the
# compose file's `models` volume starts as a copy of this directory. Pick more with
# --build-arg REMBG_MODELS="u2netp isnet-general-use" (and list them in REMBG_ALLOWED_MODELS).
ARG REMBG_MODELS="u2netp"
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py fetch_models ${REMBG_MODELS} \
 && DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app darkroom \
 && mkdir -p /data/media \
 && chown -R darkroom /data /opt/darkroom /tmp
USER darkroom

EXPOSE 8000
CMD ["gunicorn", "config.asgi:application", "-k", "uvicorn_worker.UvicornWorker", "-b", "0.0.0.0:8000"]
