# syntax=docker/dockerfile:1
# The broker service: python -m services.broker, on port 50053 (skymesh.config.Ports).
# Built from the repository's root:
#   docker build -f k8s/images/broker.Dockerfile -t skymesh/broker:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/skymesh
ENV PATH=/opt/skymesh/bin:$PATH
# The exact versions the mesh is tested with.
COPY requirements/mesh.lock requirements/survey-data.lock /tmp/
RUN pip install --use-pep517 -r /tmp/mesh.lock && pip install --no-deps -r /tmp/survey-data.lock
WORKDIR /app
COPY pyproject.toml ./
COPY proto proto
COPY skymesh skymesh
COPY services services
COPY gateway gateway
# The gRPC stubs (gen/), as `make proto` writes them.
RUN python -m skymesh.protogen && python -m compileall -q skymesh services gen

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 skymesh \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin skymesh
COPY --from=build /opt/skymesh /opt/skymesh
COPY --from=build /app /app
WORKDIR /app
ENV PATH=/opt/skymesh/bin:$PATH \
    PYTHONPATH=/app:/app/gen \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
EXPOSE 50053
ENTRYPOINT ["python", "-m", "services.broker"]
