# Two entry points (see README.md): `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of PyTorch first (it lies on local disk); an unpinned torch would pull a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,stream]'
	# Debian's Chromium drives the dashboard's browser tests (installing it needs root; without it they skip)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: chromium could not be installed: the browser tests will be skipped"
	# Debian's redis-server: the stream consumer's tests start one (without it they skip)
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) \
		|| echo "note: redis-server could not be installed: the stream consumer tests will be skipped"
	# Debian's wrk: the C load generator benchmarks/load.py drives the API with (no test needs it)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) \
		|| echo "note: wrk could not be installed: benchmarks/load.py will not run"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/niaga run $(ARGS)

# two workers, one per core; a test file stays on one worker (the doc examples share one scratch checkout)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/text_normalize.py
	$(BIN)/python benchmarks/reviews.py
	$(BIN)/python benchmarks/fraud.py
	$(BIN)/python benchmarks/customers.py
	$(BIN)/python benchmarks/recommend.py
	$(BIN)/python benchmarks/social.py
	$(BIN)/python benchmarks/social_extract.py
	$(BIN)/python benchmarks/privacy.py
	$(BIN)/python benchmarks/vision.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) runs .pytest_cache
