# Two commands on a fresh machine: `make run` and `make test`. Both create .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint clean

setup: $(VENV)/.installed

# torch's CPU build goes in first: a bare `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,scale]'
	touch $@

# With TELEGRAM_BOT_TOKEN (environment or .env) the bot goes online; without it, a console chat
# against the local Bot API emulator (type questions; EOF or Ctrl-C ends it).
run: setup
	$(VENV)/bin/newsbot ingest corpus/samples
	@if $(PY) -c 'import sys; from services.settings import Settings; t = Settings().telegram_bot_token; sys.exit(not (t and t.get_secret_value().strip()))'; then \
		$(VENV)/bin/newsbot serve; \
	else \
		$(VENV)/bin/newsbot chat; \
	fi

# Then the tests built on the `news_index` fixture again, on the scaled backend (vectors and
# BM25 on milvus-lite, the articles on the PostgreSQL server); test_index runs all three itself.
SCALED_TESTS := tests/test_crowd.py tests/test_digest_select.py tests/test_flood.py \
	tests/test_index_threads.py tests/test_poller.py tests/test_ranking.py tests/test_storage_faults.py

test: setup
	$(PY) -m pytest -q
	NEWSBOT_TEST_BACKEND=milvus-postgres $(PY) -m pytest -q $(SCALED_TESTS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) data
