FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    REMBG_HOME=/opt/darkroom/rembg

RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb-dev pkg-config gcc curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/production.txt

COPY . .
# Models are fetched at build time so that workers never download at job time.
ARG REMBG_MODELS="u2netp"
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py fetch_models ${REMBG_MODELS} \
 && DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "config.asgi:application", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:8000"]
