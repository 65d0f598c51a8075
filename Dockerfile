# syntax=docker/dockerfile:1
# The production image (deploy/, deploy/helm/k8s-cost-etl). Build from the repository root:
#   docker build -t k8s-cost-etl:0.1.0 .
#   docker run --rm -e THANOS_URL=... -e DATABASE_URL=... k8s-cost-etl:0.1.0 run
#
# Base image: pinned by version and digest (python:3.11.13-slim-bookworm; the
# digest found pinned for that tag in several independent public Dockerfiles; it could not be checked
# against the registry from where this file was made). Check it, or move to a newer patch release, with
#   docker buildx imagetools inspect python:3.11.13-slim-bookworm     # prints "Digest: sha256:..."
# and write it below (or pass --build-arg PYTHON_IMAGE=python:<version>-slim-bookworm@sha256:<digest>).
ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm@sha256:86adf8dbadc3d6e82ee5dd2c74bec2e1c2467cdad47886280501df722372d2e1

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first, from the hashed lock file only: a change to the code does not rebuild this layer.
COPY requirements.lock ./
RUN python -m venv /opt/k8s-cost-etl \
    && /opt/k8s-cost-etl/bin/pip install --require-hashes --no-deps -r requirements.lock
# Then the package itself, built with the locked setuptools (no download, no extras: the embedded
# PostgreSQL is for a single user's machine and is not in this image).
COPY pyproject.toml README.md ./
COPY etl ./etl
COPY migrations ./migrations
RUN /opt/k8s-cost-etl/bin/pip install --no-deps --no-build-isolation . \
    && /opt/k8s-cost-etl/bin/k8s-cost-etl --version

FROM ${PYTHON_IMAGE}
# uid/gid 10001 match the manifests' securityContext; no shell for the service user.
RUN groupadd --gid 10001 etl \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/k8s-cost-etl --create-home --shell /usr/sbin/nologin etl
# Only the installed virtual environment is copied: no wheel, no source tree, no build cache.
COPY --from=build /opt/k8s-cost-etl /opt/k8s-cost-etl
# The documented defaults; the manifests mount their ConfigMap over /etc/k8s-cost-etl.
COPY config/k8s-cost-etl.yaml /etc/k8s-cost-etl/config.yaml
# HOME=/tmp: the manifests make the root filesystem read-only with /tmp as the writable emptyDir.
ENV PATH=/opt/k8s-cost-etl/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    K8S_COST_ETL_CONFIG=/etc/k8s-cost-etl/config.yaml
USER 10001:10001
WORKDIR /var/lib/k8s-cost-etl
# /healthz, /readyz and /metrics of `k8s-cost-etl schedule`
EXPOSE 9464
ENTRYPOINT ["k8s-cost-etl"]
CMD ["--help"]
