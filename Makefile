# Two commands on a fresh Debian 12 machine (as root they also install the Debian packages):
#   make run    run the gateway with embedded defaults (SQLite, reference central store in-process)
#   make test   run the whole test suite against real peers (Kannel, Dovecot, Tesseract)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# test files run in this many processes (pytest-xdist), a file's tests in one: most of a test's time is spent
# waiting on peers and child processes, so two workers on two cores take a third of the time of one
TEST_WORKERS ?= 2

# what `run` needs (letters OCR) and what the integration tests start as real peers
DEBS_RUN  := tesseract-ocr tesseract-ocr-ind poppler-utils fonts-dejavu-core
DEBS_TEST := $(DEBS_RUN) kannel kannel-extras dovecot-imapd swaks wrk chromium

.PHONY: run test lint bench debs-run debs-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

debs-run:
	@sh scripts/install-debs.sh $(DEBS_RUN)

debs-test:
	@sh scripts/install-debs.sh $(DEBS_TEST)

run: $(STAMP) debs-run
	$(VENV)/bin/lapor-gateway run

test: $(STAMP) debs-test
	$(VENV)/bin/ruff check .
	OMP_THREAD_LIMIT=1 $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP) debs-test
	$(VENV)/bin/lapor-gateway bench sms

clean:
	rm -rf $(VENV) data
