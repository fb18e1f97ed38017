# LeadFollow production image: one image for web (gunicorn + WhiteNoise), worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time and served by WhiteNoise. The key below exists
# only for this build step (settings refuse DEBUG=0 without one); the real one comes from the environment.
RUN DEBUG=0 SECRET_KEY=build-time-only-collectstatic-key-not-used-at-runtime-0123456789 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app --no-create-home leadfollow \
    && mkdir -p /app/var \
    && chown -R leadfollow /app/var
USER leadfollow

EXPOSE 8000
# gunicorn.conf.py preloads the app (leadfollow/wsgi.py warms it up) before the workers fork.
CMD ["gunicorn", "leadfollow.wsgi", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
