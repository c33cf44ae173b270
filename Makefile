# provscan — the README's commands. `make run` and `make test` work on a fresh machine:
# they create .venv, install what is missing, then run.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages the tests and generators use (installed only when missing and we are root).
SYSDEPS := chromium chromium-driver espeak-ng ffmpeg festival festvox-kallpc16k festvox-us-slt-hts docker-compose
SYSDEPS_BINS := chromium chromedriver espeak-ng ffmpeg festival text2wave docker-compose

.PHONY: run test test-fast lint bench models models-all sysdeps services venv clean-venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# The public-mark peer (Stable Diffusion's dwtDct) for tests and benchmarks. --no-deps: its
	# opencv-python would shadow opencv-python-headless.
	$(BIN)/pip install -q --no-deps invisible-watermark==0.2.0 PyWavelets==1.9.0
	@touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@missing=""; for b in $(SYSDEPS_BINS); do command -v $$b >/dev/null 2>&1 || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages (missing:$$missing)"; \
	    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSDEPS) >/dev/null; \
	  else echo "warning: missing$$missing; install: sudo apt-get install $(SYSDEPS)" >&2; fi; \
	fi

services:
	@scripts/services.sh

# The default detectors (corpus + seeded training sets + training), on the committed generator
# weights; models-all retrains the generators too (about an hour longer on 2 cores).
models: $(STAMP)
	$(BIN)/provscan models build --kind detector --jobs 2

models-all: $(STAMP)
	$(BIN)/provscan models build --jobs 2

run: $(STAMP) sysdeps
	$(BIN)/provscan models build --missing-only
	$(BIN)/provscan serve --host $(HOST) --port $(PORT)

test: $(STAMP) sysdeps services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean-venv:
	rm -rf $(VENV)
