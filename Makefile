# One task runner. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-deps eval eval-ci bench bench-scale soak clean

setup: $(STAMP)

# Re-installs only when the pins change; pip resolves torch==2.13.0 to the CPU build.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Serves on 127.0.0.1:8000; ingests the sample corpus the first time (empty index).
run: setup
	$(BIN)/qa serve --seed data/corpus

# The shared-state tests run a real redis-server (Debian's package; installing it needs root).
test-deps:
	@command -v redis-server >/dev/null 2>&1 || { echo "installing redis-server for the shared-state tests"; \
	  (apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	   (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)); }

test: setup test-deps
	$(BIN)/python -m pytest -q

EVAL_CORPUS := --corpus data/corpus --corpus eval/corpus

# Scores both modes and the baseline on every file of eval/datasets (tune and frozen splits, reported apart),
# in a separate index so it never touches yours.
eval: setup
	QA_DATA_DIR=.eval-index $(BIN)/qa eval $(EVAL_CORPUS) --mode all --report eval/reports/latest

# What CI runs after the tests: every case in extractive mode and a 30-case sample of the frozen split in llm
# mode, failing when the frozen split's figures fall below eval/thresholds.json.
eval-ci: setup
	rm -rf .eval-index
	QA_DATA_DIR=.eval-index $(BIN)/qa eval $(EVAL_CORPUS) --mode extractive --check eval/thresholds.json --report eval/reports/ci-extractive
	QA_DATA_DIR=.eval-index $(BIN)/qa eval --mode llm --split frozen --sample 30 --check eval/thresholds.json --report eval/reports/ci-llm

bench: setup
	$(BIN)/python -m eval.bench

# Ingest rate and retrieval latency at 1k, 10k and 100k chunks, embedded vs server; writes docs/benchmarks.md.
# Long: 100k chunks means 200k embeddings (about 28 min per mode on 2 cores); run it on an idle machine.
bench-scale: setup
	$(BIN)/python -m eval.bench_scale

# Five minutes of steady concurrent load on `qa serve` (loopback); fails on any error or memory growth.
soak: setup
	$(BIN)/python -m eval.soak --minutes 5 --concurrency 8 --write

clean:
	rm -rf .eval-index eval/reports
