# Balas: one image for the web server, the Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# psycopg[binary] brings its own libpq: no compiler or system libraries needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic only reads settings: production insists on these, so give it throwaway values
# for this one build step (the real ones come from the environment at run time).
RUN DJANGO_SECRET_KEY=collectstatic-only \
    BALAS_SECRETS_KEY=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXJlYWxrZXk= \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app balas \
    && mkdir -p /app/var && chown -R balas /app/var

USER balas
EXPOSE 8000

# Webhooks, API, pages and WebSockets; several workers share the load (put a TLS proxy in front).
# X-Forwarded-For only from BALAS_TRUSTED_PROXIES; query-string values (API tokens) kept out of the log.
CMD ["sh", "-c", "exec uvicorn config.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --proxy-headers --forwarded-allow-ips=${BALAS_TRUSTED_PROXIES:-127.0.0.1} --log-config config/uvicorn-log.json"]
