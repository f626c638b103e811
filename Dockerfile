FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Dependencies first, from the lock with its hashes, so the layer is reused until the lock changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md schema.graphql ./
COPY api ./api
COPY graph ./graph
COPY schema ./schema
# Installed in place, as in a checkout: the project's root is /app, so schema.graphql and the
# state folder (.shouhu) are where the code looks for them.
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && useradd --system --uid 10001 shouhu \
    && mkdir -p /app/.shouhu && chown shouhu /app/.shouhu
USER shouhu
EXPOSE 8000
CMD ["shouhu", "serve"]
