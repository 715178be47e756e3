# Two entry points (see README.md): `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench models clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU wheel of PyTorch first (it lies on local disk); an unpinned torch would pull a CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,stream]'
	# statsforecast (the forecast baselines) and fugue pin pandas < 3 for their pandas front end; niaga calls
	# statsforecast's models on numpy arrays, which work with pandas 3: their other dependencies are in pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps 'statsforecast>=2.1,<3' 'fugue>=0.9.4'
	# Debian's Chromium drives the dashboard's browser tests (installing it needs root; without it they skip)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: chromium could not be installed: the browser tests will be skipped"
	# Debian's redis-server: the stream consumer's tests start one (without it they skip)
	command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) \
		|| echo "note: redis-server could not be installed: the stream consumer tests will be skipped"
	# Debian's PostgreSQL: the tests of the operational tables on PostgreSQL start a throwaway cluster (without it they skip)
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) \
		|| echo "note: postgresql could not be installed: the PostgreSQL store tests will be skipped"
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

# The product model the repository ships (models/vision-fashion, served by `make run`): about an hour on 2 CPU
# cores (the training loop's budget is 58 minutes), then packaged without its catalogue index (niaga run builds it)
FASHION := ../shared/data/images/fashion_product_images_small
models: $(STAMP)
	$(BIN)/niaga vision train --data $(FASHION) --out runs/vision-fashion-long --minutes 58
	$(BIN)/niaga vision package --model runs/vision-fashion-long --data $(FASHION) --out models/vision-fashion

bench: $(STAMP)
	$(BIN)/python benchmarks/text_normalize.py
	$(BIN)/python benchmarks/reviews.py
	$(BIN)/python benchmarks/fraud.py
	$(BIN)/python benchmarks/abuse.py
	$(BIN)/python benchmarks/customers.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/recommend.py
	$(BIN)/python benchmarks/social.py
	$(BIN)/python benchmarks/social_extract.py
	$(BIN)/python benchmarks/privacy.py
	$(BIN)/python benchmarks/analytics_experiment.py
	$(BIN)/python benchmarks/vision.py
	$(BIN)/python benchmarks/vision_duplicates.py --model runs/bench-vision-fashion
	$(BIN)/python benchmarks/vision_titles.py
	$(BIN)/python benchmarks/model_formats.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/store.py

clean:
	rm -rf $(VENV) runs .pytest_cache
