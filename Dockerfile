FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY api ./api
COPY graph ./graph
COPY schema ./schema
RUN pip install --no-cache-dir . && useradd --system --uid 10001 shouhu
USER shouhu
EXPOSE 8000
CMD ["shouhu", "serve"]
