# syntax=docker/dockerfile:1
# The image for both ways to run it (deploy/): build from the repository root with
#   docker build -t k8s-cost-etl:0.1.0 .
#   docker run --rm -e THANOS_URL=... -e DATABASE_URL=... k8s-cost-etl:0.1.0 run

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY etl ./etl
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# uid/gid 10001 match the manifests' securityContext; no shell for the service user.
RUN groupadd --gid 10001 etl \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/k8s-cost-etl --create-home --shell /usr/sbin/nologin etl
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The documented defaults; the manifests mount their ConfigMap over /etc/k8s-cost-etl.
COPY config/k8s-cost-etl.yaml /etc/k8s-cost-etl/config.yaml
# HOME=/tmp: the manifests make the root filesystem read-only with /tmp as the writable emptyDir.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    K8S_COST_ETL_CONFIG=/etc/k8s-cost-etl/config.yaml \
    EMBEDDED_PG_DATA_DIR=/var/lib/k8s-cost-etl/pgdata
USER 10001:10001
WORKDIR /var/lib/k8s-cost-etl
# /healthz, /readyz and /metrics of `k8s-cost-etl schedule`
EXPOSE 9464
ENTRYPOINT ["k8s-cost-etl"]
CMD ["--help"]
