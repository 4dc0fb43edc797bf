# cnncourse: `make book` and `make test` work on a fresh clone; both create .venv first.
# The install is locked: requirements/lock.txt pins every package (regenerate with `make lock`).
# pip installs uv into .venv, and uv installs the rest: it unpacks and compiles in parallel
# (28 to 37 s on the 2-core CI machine, against 107 s for pip alone).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/lock.txt
LOCK_GPU := requirements/lock-gpu.txt
GPU_STAMP := $(VENV)/.installed-gpu
VENDOR := book/_vendor/html-manager/embed-amd.js
ANYWIDGET_JS := book/_vendor/anywidget/index.js
PIP_VERSION := 26.3
UV_VERSION := 0.13.9
UV := $(BIN)/uv pip install -q --python $(BIN)/python --compile-bytecode
# pytest workers for `make test` (pytest-xdist); `auto` is one per CPU core.
TEST_WORKERS ?= auto
export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup test test-fast lint format book slides pdf vendor chromium sandbox poppler lab bench release grade lock lock-gpu clean

# `make setup GPU=1` adds the gpu extra (TensorFlow's CUDA and cuDNN wheels, Linux with an
# NVIDIA driver) on top, pinned by $(LOCK_GPU); check the result with scripts/gpu_check.py.
setup: $(STAMP) $(if $(filter 1,$(GPU)),$(GPU_STAMP))

# Reinstalls only when pyproject.toml or the lock file changed since the last install.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "pip==$(PIP_VERSION)" "uv==$(UV_VERSION)"
	$(UV) -c $(LOCK) -e ".[dev]"
	touch $@

$(GPU_STAMP): $(STAMP) $(LOCK_GPU)
	$(UV) -c $(LOCK) -c $(LOCK_GPU) -e ".[dev,gpu]"
	touch $@

# Lint and formatting (Python files; notebooks are linted but keep their hand layout).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two jobs share the machine. In the background, the book, its slides and its PDF build
# (log: book/_build/build.log), and as soon as they are built, tests/book checks them
# (log: book/_build/book-tests.log): test_executed.py reads the chapters' runs (each
# chapter runs once), the browser tests open the built pages and decks, and test_pdf.py
# reads the PDF. In the foreground, pytest runs every other test (none needs the book's
# JavaScript, so they start while npm installs it). Each pytest lists its slowest tests,
# to show where the time goes.
BOOK_LOG := book/_build/build.log
BOOK_TEST_LOG := book/_build/book-tests.log
BOOK_FAILED := 100
test: lint $(STAMP)
	@mkdir -p book/_build
	@echo "building the book, its slides and its PDF, then testing them, in the background (logs: $(BOOK_LOG), $(BOOK_TEST_LOG))"
	@{ $(MAKE) --no-print-directory book pdf > $(BOOK_LOG) 2>&1 || exit $(BOOK_FAILED); \
	   $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=15 tests/book > $(BOOK_TEST_LOG) 2>&1; } & book=$$!; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --ignore=tests/book --durations=25; tests=$$?; \
	wait $$book; booked=$$?; \
	if [ $$booked -eq $(BOOK_FAILED) ]; then tail -n 60 $(BOOK_LOG); echo "make book pdf failed (log: $(BOOK_LOG))"; exit 1; fi; \
	echo "the book's tests (log: $(BOOK_TEST_LOG)):"; cat $(BOOK_TEST_LOG); \
	[ $$booked -eq 0 ] && exit $$tests

# The tests not marked slow: no book build, no notebook execution, no TensorFlow training.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Executes every chapter on a fresh kernel, one per core (cnncourse.publish.execute), then
# builds the pages from those runs; a cell error or a Sphinx warning fails the build.
# Then every chapter becomes a deck of lecture slides (book/_build/html/slides/), made from
# the same runs.
book: $(STAMP) $(VENDOR) $(ANYWIDGET_JS)
	$(BIN)/python -m cnncourse.publish.execute
	$(BIN)/jupyter-book build book --warningiserror --nitpick --keep-going
	$(BIN)/python -m cnncourse.publish.slides

# The decks alone, from the last book build: after a change of slide types only.
slides: $(STAMP) $(VENDOR)
	$(BIN)/python -m cnncourse.publish.slides

# The whole book as one PDF (book/_build/pdf/cnncourse.pdf), printed by Chromium from a
# single-page build of the chapters as the last `make book` ran them (none runs again);
# `chromium` installs the browser where it is missing (as root, like the tests).
pdf: $(STAMP) $(VENDOR) $(ANYWIDGET_JS) chromium
	$(BIN)/python -m cnncourse.publish.pdf

# The JavaScript the book serves itself (MathJax, RequireJS, the ipywidgets embed manager),
# installed by npm from book/package-lock.json and copied into book/_vendor/. The slides
# copy reveal.js from book/node_modules (npm installs it here too).
vendor: $(VENDOR) $(ANYWIDGET_JS)

$(VENDOR): book/package-lock.json
	cd book && npm ci --no-audit --no-fund --loglevel=error
	rm -rf book/_vendor && mkdir -p book/_vendor/html-manager
	cp -R book/node_modules/mathjax/es5 book/_vendor/mathjax
	cp book/node_modules/requirejs/require.js book/_vendor/require.js
	cd book/node_modules/@jupyter-widgets/html-manager/dist && \
	  cp embed-amd.js *.woff *.woff2 *.ttf *.eot *.svg ../../../../_vendor/html-manager/
	touch $@

# anywidget's front end, which the live explorers (cnncourse/widgets/live.py) render with.
# The embed manager loads modules with RequireJS, so this is the AMD build that the
# anywidget wheel ships (npm's is an ES module); taken from the installed package, its
# version is the one the widgets' state asks for.
$(ANYWIDGET_JS): $(STAMP) $(VENDOR)
	mkdir -p $(dir $@)
	cp "$$($(BIN)/python -c 'import anywidget, pathlib; print(pathlib.Path(anywidget.__file__).parent / "nbextension" / "index.js")')" $@

# Headless Chromium for tests/book/test_browser.py (Debian; needs root, as in CI).
chromium:
	command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

# bubblewrap, the grading sandbox of `cnncourse grade` (Debian; needs root, as in CI).
# prlimit, the other half, comes with util-linux.
sandbox:
	command -v bwrap >/dev/null || { apt-get update && apt-get install -y bubblewrap; }

# Poppler's pdftotext, with which tests/book/test_pdf.py reads the PDF's text in a second
# (pypdf, its fallback, takes minutes); Debian, needs root, as in CI.
poppler:
	command -v pdftotext >/dev/null || { apt-get update && apt-get install -y poppler-utils; }

# JupyterLab on the repository with the course's settings (jupyter-config/: no news prompt,
# no update check); scripts/lab.py is also what tests/lab starts.
lab: $(STAMP)
	$(BIN)/python scripts/lab.py

bench: $(STAMP)
	$(BIN)/python benchmarks/conv_numpy_vs_tensorflow.py
	$(BIN)/python benchmarks/keras_throughput.py

release: $(STAMP)
	$(BIN)/cnncourse release

grade: $(STAMP)
	@test -n "$(SOURCE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade SOURCE=solutions/X.ipynb SUBMISSIONS=dir/"; exit 2; }
	$(BIN)/cnncourse grade --source $(SOURCE) $(SUBMISSIONS)

# Re-resolve every dependency to its newest allowed version and pin the result.
lock:
	rm -rf /tmp/cnncourse-lock-venv
	$(PYTHON) -m venv /tmp/cnncourse-lock-venv
	/tmp/cnncourse-lock-venv/bin/python -m pip install -q "pip==$(PIP_VERSION)"
	/tmp/cnncourse-lock-venv/bin/python -m pip install -q -e ".[dev]"
	{ echo "# Generated by 'make lock' on $$(date -u +%F) with $$($(PYTHON) --version). Do not edit."; \
	  /tmp/cnncourse-lock-venv/bin/python -m pip freeze --exclude-editable; } > $(LOCK)
	rm -rf /tmp/cnncourse-lock-venv

# Pin what the gpu extra adds to $(LOCK) (the CUDA wheels), resolved with $(LOCK) as
# constraints; --dry-run reads the wheels' metadata, so no multi-GB download.
lock-gpu:
	rm -rf /tmp/cnncourse-lock-gpu-venv
	$(PYTHON) -m venv /tmp/cnncourse-lock-gpu-venv
	/tmp/cnncourse-lock-gpu-venv/bin/python -m pip install -q "pip==$(PIP_VERSION)"
	/tmp/cnncourse-lock-gpu-venv/bin/python -m pip install -q --dry-run --ignore-installed \
	  --report /tmp/cnncourse-lock-gpu-venv/report.json -c $(LOCK) -e ".[dev,gpu]"
	$(PYTHON) scripts/write_gpu_lock.py /tmp/cnncourse-lock-gpu-venv/report.json --base $(LOCK) --output $(LOCK_GPU)
	rm -rf /tmp/cnncourse-lock-gpu-venv

clean:
	rm -rf $(VENV) book/_build book/_vendor book/node_modules .pytest_cache .ruff_cache
