# tipoff — the two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
FLASK  := $(VENV)/bin/flask
HOST   ?= 127.0.0.1
PORT   ?= 5000

export FLASK_APP := wsgi:app

.PHONY: run test install install-dev translations translations-update init bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

# Compiled catalogues are build output, not source: rebuilt whenever a .po changes.
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -d tipoff/translations -D messages >/dev/null

# Re-extract every UI string and merge it into the English catalogue (messages.pot is kept in the
# repo). Only tipoff/ and templates/ are scanned, never .venv or tests. The files are listed one by
# one because babel matches the babel.cfg patterns (tipoff/**.py, templates/**.html) relative to a
# directory argument, so passing `tipoff templates` would extract nothing; and an empty template
# must never reach `pybabel update`, which would mark every existing translation obsolete.
# `Message("…")` (tipoff/messages.py: services' messages, translated where a page shows them) is
# extracted like `_("…")`.
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k Message -o tipoff/translations/messages.pot \
		--no-location --sort-output --project tipoff \
		$$(find tipoff -name '*.py' | sort) $$(find templates -name '*.html' | sort)
	@grep -q '^msgid "[^"]' tipoff/translations/messages.pot || \
		{ echo "translations-update: no messages extracted, catalogue left untouched" >&2; exit 1; }
	$(VENV)/bin/pybabel update -i tipoff/translations/messages.pot -d tipoff/translations -l en \
		--no-fuzzy-matching

# Initialise the data directory if it is missing (keys, database, reference data, first admin),
# then serve. Running it again keeps every piece of data.
init: install
	TIPOFF_ENV=$${TIPOFF_ENV:-development} $(FLASK) tipoff init

run: init
	TIPOFF_ENV=$${TIPOFF_ENV:-development} $(VENV)/bin/gunicorn --config tipoff/gunicorn_conf.py \
		--bind $(HOST):$(PORT) wsgi:app

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmarks of issue 7 on SQLite and PostgreSQL (benchmarks/README.md): 36–53 minutes on 2 cores.
# BENCH_SCALE=smoke (2k/20k/100k tips) takes a few minutes; BENCH_DATABASES=sqlite skips PostgreSQL.
bench: install-dev
	@{ command -v wrk && { command -v nginx || test -x /usr/sbin/nginx; }; } >/dev/null 2>&1 || { \
		echo "== installing Debian's wrk and nginx-light"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null; }
	@case ",$${BENCH_DATABASES:-sqlite,postgresql}," in *,postgresql,*) \
		pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start;; \
	esac
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache
