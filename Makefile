# One-command set-up: every target bootstraps .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# torch/torchvision pinned to the builds this machine class carries on disk.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint bench dashboard clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PINS)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/inspector demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy inspector/store inspector/figures inspector/report inspector/diagnosis \
		inspector/dashboard inspector/study inspector/cli inspector/validation.py inspector/text_safety.py \
		inspector/probes/summary_stats.py

bench: $(STAMP)
	$(PY) bench/overhead.py

dashboard: $(STAMP)
	$(VENV)/bin/inspector dashboard

clean:
	rm -rf $(VENV) runs .pytest_cache
