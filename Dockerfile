# syntax=docker/dockerfile:1
# Build: docker build -t k8s-cost-etl .
# Run:   docker run --rm -e THANOS_URL=... -e DATABASE_URL=... k8s-cost-etl run

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY etl ./etl
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    K8S_COST_ETL_CONFIG=/etc/k8s-cost-etl/config.yaml \
    EMBEDDED_PG_DATA_DIR=/var/lib/k8s-cost-etl/pgdata
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/k8s-cost-etl --create-home etl
COPY config/k8s-cost-etl.yaml /etc/k8s-cost-etl/config.yaml
USER 10001
WORKDIR /var/lib/k8s-cost-etl
ENTRYPOINT ["k8s-cost-etl"]
CMD ["--help"]
