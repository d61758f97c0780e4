# 智办 — every target is listed by `make help` (from the `## ` comments).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA_PY := $(RASA_VENV)/bin/python
PY311 ?= python3.11

# Rasa 3.6 needs Python 3.10. Use PY310=... to name it; otherwise take python3.10 from PATH, then pyenv's.
PY310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: help setup run test lint format typecheck validate test-nlu test-app system-deps train doctor lock clean bench-startup \
	kb-build kb-eval bench-kb bench-kb-scale calibrate nlu-eval nlu-cv test-stories bench-turns bench-gateway \
	bench-tts bench-asr bench-phone

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/app.lock pyproject.toml
	@command -v $(PY311) >/dev/null || { echo "需要 Python 3.11（找不到 $(PY311)）。请安装 Python 3.11 或用 PY311=/path/to/python3.11 指定。"; exit 1; }
	test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/app.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.lock
	@test -n "$(PY310)" || { echo "Rasa 3.6 需要 Python 3.10，但没有找到 python3.10。请安装 Python 3.10（例如 pyenv install 3.10.13），或用 PY310=/path/to/python3.10 指定。"; exit 1; }
	test -x $(RASA_PY) || $(PY310) -m venv $(RASA_VENV)
	$(RASA_PY) -m pip install --quiet --disable-pip-version-check -r requirements/rasa.lock
	touch $@

setup: $(VENV)/.installed $(RASA_VENV)/.installed ## Create both environments from the lock files (only what is missing or stale)

run: setup ## Train if needed, build what is stale, start Rasa, the action server and the gateway
	$(VENV)/bin/zhiban run

train: setup ## Train the Rasa model if config, domain or data changed
	$(VENV)/bin/zhiban train

doctor: setup ## Check interpreters, ports, model freshness and databases
	$(VENV)/bin/zhiban doctor

lint: setup ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup ## Format the code with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: setup ## mypy (strict) on the Python 3.11 packages
	$(VENV)/bin/mypy

validate: setup ## Validate the Rasa domain and training data (responses used only by actions are reported, not failed)
	RASA_TELEMETRY_ENABLED=false $(RASA_PY) -m rasa data validate --domain assistant/domain --data assistant/data --config config.yml

test-nlu: setup ## Tests of the custom NLU components, in the Rasa environment
	$(RASA_PY) -m pytest -q -p no:cacheprovider -o addopts="" nlu/tests

WEB_TEST_DEPS := tests/web/node_modules/.installed

system-deps: $(WEB_TEST_DEPS) ## Debian packages the tests use (PostgreSQL, chromium, node, espeak-ng, baresip, iproute2) and axe-core; installs only what is missing
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "PostgreSQL: installed"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; fi
	@if test -x /usr/bin/chromium; then echo "chromium: installed"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; fi
	@if command -v espeak-ng >/dev/null && command -v baresip >/dev/null && command -v ip >/dev/null; then echo "espeak-ng, baresip, iproute2: installed"; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng baresip iproute2; fi

# axe-core for the page's accessibility test, from the npm registry at the version in tests/web/package-lock.json
$(WEB_TEST_DEPS): tests/web/package.json tests/web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }
	cd tests/web && npm ci --no-audit --no-fund --silent
	touch $@

test-app: setup system-deps ## All application tests, including the slow end-to-end ones
	$(PY) -m pytest

test: lint typecheck validate test-nlu test-app ## Everything CI runs: lint, types, data validation, all tests

bench-startup: setup ## Measure cold and warm start of `zhiban run` (writes figures to stdout)
	$(PY) benchmarks/startup.py

kb-build: setup ## Build the knowledge index if the knowledge base changed
	$(VENV)/bin/zhiban kb build

kb-eval: setup ## Retrieval quality on the shared development set and the project's own question sets
	@for f in ../shared/eval/dev-questions.jsonl tests/knowledge/data/own-questions-*.jsonl; do \
	  [ -f $$f ] && echo "$$f" && $(VENV)/bin/zhiban kb eval $$f; done; true

bench-kb: setup ## Retrieval quality table: BM25 vs dense vs plain RRF vs hybrid (for docs/benchmarks.md)
	$(PY) benchmarks/kb_quality.py

bench-kb-scale: setup ## Index build, memory and query latency on 200,000 synthetic passages (HNSW; ~10 min)
	$(PY) benchmarks/kb_scale.py --rows 200000

bench-turns: setup ## NLU parse and full-turn latency p50/p95, one user and ten concurrent users
	$(PY) benchmarks/turn_latency.py

bench-gateway: setup ## Gateway overhead vs Rasa's REST webhook (same scripts, one run) and 20 concurrent sessions
	$(PY) benchmarks/gateway_overhead.py

bench-tts: setup ## TTS time to first audio and total, p50/p95: espeak-ng and edge-tts (against the local fake service)
	$(PY) benchmarks/tts_latency.py

bench-asr: setup ## ASR character error rate with and without hotwords, and real-time factor (generated phone-band set)
	$(PY) benchmarks/asr_cer.py

bench-phone: setup ## Phone latency p50/p95 from end of speech to first audio (VAD tail, ASR, Rasa, TTS); starts the stack
	$(PY) benchmarks/phone_latency.py

nlu-eval: setup ## Intent F1 on the development and blind splits, entity F1 on the blind entity set
	$(PY) benchmarks/nlu_eval.py

nlu-cv: setup ## k-fold cross-validation of the NLU and the fallback thresholds it supports (~20 min)
	$(PY) benchmarks/nlu_cv.py

calibrate: setup ## Refit the search confidence model and show coverage/accuracy per threshold
	$(PY) benchmarks/calibrate_confidence.py

lock: ## Re-resolve both lock files from requirements/*.in in throw-away environments
	rm -rf /tmp/zhiban-lock-app /tmp/zhiban-lock-rasa
	$(PY311) -m venv /tmp/zhiban-lock-app
	/tmp/zhiban-lock-app/bin/pip install --quiet -r requirements/app.in && /tmp/zhiban-lock-app/bin/pip check
	(echo "# Generated by \`make lock\` from requirements/app.in (Python 3.11). Do not edit by hand."; \
	 /tmp/zhiban-lock-app/bin/pip freeze | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/' | LC_ALL=C sort -f) > requirements/app.lock
	$(PY310) -m venv /tmp/zhiban-lock-rasa
	/tmp/zhiban-lock-rasa/bin/pip install --quiet -r requirements/rasa.in && /tmp/zhiban-lock-rasa/bin/pip check
	(echo "# Generated by \`make lock\` from requirements/rasa.in (Python 3.10). Do not edit by hand."; \
	 /tmp/zhiban-lock-rasa/bin/pip freeze | LC_ALL=C sort -f) > requirements/rasa.lock

clean: ## Remove generated models, indexes, databases and logs (var/); environments stay
	rm -rf var
