# skymesh: `make run` starts the whole mesh, `make test` checks it. Both set up what is missing.
SHELL := /bin/bash
PY311 := /usr/bin/python3.11
VENV := .venv
INFRA_VENV := .cache/infra-venv
PY := $(VENV)/bin/python
STAMP := .cache/stamps

NPM := npm --prefix web --no-audit --no-fund --cache $(CURDIR)/.cache/npm
CLIENT_NPM := npm --prefix clients/typescript --no-audit --no-fund --cache $(CURDIR)/.cache/npm
TS_CLIENT_DEPS := clients/typescript/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html \
	web/package.json web/tsconfig.json web/vite.config.ts gateway/openapi.json

.PHONY: setup stubs proto openapi web run stop status test test-unit test-web lint format bench \
	clean k8s-envoy k8s-validate

## setup: install system packages, both virtual environments, the Kafka jars, the OpenAPI
## generator, kustomize and the Go and TypeScript clients' dependencies (idempotent)
setup: $(STAMP)/apt $(STAMP)/mesh-venv $(STAMP)/infra-venv stubs $(STAMP)/go-client \
		$(TS_CLIENT_DEPS)
	@$(PY) -m skymesh.cli infra install
	@$(PY) -m skymesh.openapi --install
	@$(PY) -m skymesh.k8s --install

$(STAMP)/apt:
	@bash scripts/install-system-packages.sh
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/mesh-venv: requirements/mesh.lock requirements/survey-data.lock pyproject.toml | $(STAMP)/apt
	@test -x $(PY) || $(PY311) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --use-pep517 -r requirements/mesh.lock
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements/survey-data.lock
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
		-e . --config-settings editable_mode=compat
	@echo "$(CURDIR)/gen" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/skymesh-gen.pth
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/infra-venv: requirements/infra.lock | $(STAMP)/apt
	@test -x $(INFRA_VENV)/bin/python || $(PY311) -m venv $(INFRA_VENV)
	@$(INFRA_VENV)/bin/pip install -q --disable-pip-version-check -r requirements/infra.lock
	@mkdir -p $(STAMP) && touch $@

# The Python stubs and Envoy's descriptor set (gen/, ignored), which everything runs on.
stubs: $(STAMP)/mesh-venv
	@$(PY) -m skymesh.protogen

## proto: regenerate everything generated from proto/: the Python stubs and Envoy's descriptor
## set (gen/), and the Go and TypeScript clients' code (clients/*/gen: commit it, a test checks
## it is current)
proto: $(STAMP)/mesh-venv $(TS_CLIENT_DEPS)
	@$(PY) -m skymesh.protogen --clients

$(STAMP)/go-client: clients/go/go.sum | $(STAMP)/apt $(STAMP)/mesh-venv
	@$(PY) -m skymesh.gotools download clients/go
	@mkdir -p $(STAMP) && touch $@

$(TS_CLIENT_DEPS): clients/typescript/package-lock.json | $(STAMP)/apt
	@$(CLIENT_NPM) ci --loglevel=error

## openapi: regenerate gateway/openapi.json from the protos (commit it: a test checks it is current)
openapi: stubs
	@$(PY) -m skymesh.openapi

## k8s-envoy: regenerate the gateway pod's Envoy config, k8s/base/gateway/envoy.yaml (commit it:
## a test checks it is current)
k8s-envoy: stubs
	@$(PY) -m skymesh.infra.gateway --k8s -o k8s/base/gateway/envoy.yaml

## k8s-validate: render both overlays of k8s/ with kustomize and validate every object offline
## (kubernetes-validate --strict, custom resources against their CRDs; tests/unit/test_k8s.py
## does the same within `make test`)
k8s-validate: setup
	@$(PY) -m skymesh.k8s

## web: build the web application's bundle (web/dist), which the gateway serves at /
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json | $(STAMP)/apt
	@$(NPM) ci --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	@$(NPM) run --silent build

## test-web: the web application's own tests (Vitest)
test-web: web/node_modules/.package-lock.json
	@$(NPM) test --silent

## run: start Kafka, the database, Triton, the services and Envoy; stream the bundled alerts
run: setup web
	@$(PY) -m skymesh.cli up --stream

## stop: stop every process `make run` started
stop:
	@if [ -x $(PY) ]; then $(PY) -m skymesh.cli down; fi

## status: what runs, where
status:
	@$(PY) -m skymesh.cli status

## test: set up, lint, then run every test against real Kafka, database, Envoy and Triton
test: setup web test-web
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(PY) -m pytest -q --durations=15

test-unit: setup
	@$(PY) -m pytest -q -m "not integration"

lint:
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format:
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

## bench: every benchmark in bench/ (figures printed; the whole mesh's also written to
## bench/results/<date>.json and .png); `python -m bench NAME [--quick]` runs one
bench: setup web
	@$(PY) -m bench

clean: stop
	rm -rf gen .run web/dist web/generated clients/typescript/dist
