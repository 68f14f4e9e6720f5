# Two commands set everything up: `make lab` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.stylelab-installed

.PHONY: setup lab test test-fast demo bench clean-venv

# Create the virtual environment and install the pinned requirements (once, or when they change).
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@$(PY) -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'stylelab-dev.pth').write_text('$(CURDIR)\n')"
	@touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# Unit tests, every notebook in quick mode, and the browser test when Chromium is installed.
test: $(STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  echo "browser test NOT RUN: Chromium is missing; install it with: sudo apt-get install chromium chromium-driver"
	STYLELAB_QUICK=1 $(PY) -m pytest -q -rs -p no:cacheprovider --nbval-lax tests notebooks

# Unit tests only (no notebooks, no browser).
test-fast: $(STAMP)
	STYLELAB_QUICK=1 $(PY) -m pytest -q -p no:cacheprovider tests -m "not browser"

demo: $(STAMP)
	$(PY) -m stylelab demo

bench: $(STAMP)
	$(PY) -m stylelab bench

clean-venv:
	rm -rf $(VENV)
