# syntax=docker/dockerfile:1
# The web application's bundle (`make web`), served on 8081 next to Envoy in the gateway pod:
# every path is a file of the bundle or else the application's page (its own routes).
#   docker build -f k8s/images/web.Dockerfile -t skymesh/web:0.1.0 .
ARG NODE_IMAGE=node:22-bookworm-slim
ARG NGINX_IMAGE=nginxinc/nginx-unprivileged:1.29-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
COPY gateway/openapi.json /src/gateway/openapi.json
RUN npm run build

FROM ${NGINX_IMAGE}
COPY k8s/images/web.nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /src/web/dist /usr/share/nginx/html
USER 101
EXPOSE 8081
