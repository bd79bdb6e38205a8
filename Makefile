# Conduct: two commands, `make run` and `make test`, on a machine with Python, git and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench install clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	CONDUCT_ENV=$${CONDUCT_ENV:-development} $(BIN)/conduct dev prepare
	CONDUCT_ENV=$${CONDUCT_ENV:-development} $(BIN)/conduct run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

LINTED := conduct tests $(wildcard bench)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

bench: $(STAMP)
	$(BIN)/python bench/encryption.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The French catalog: `make translations` gathers the marked strings and adds the new ones to
# conduct/translations/fr/LC_MESSAGES/messages.po (then translate every empty msgstr). The
# catalog is compiled in memory when the app first uses it: there is no .mo to build.
BABEL_KEYWORDS := -k N_ -k _l
CATALOG := conduct/translations/fr/LC_MESSAGES/messages.po

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
		--project Conduct -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d conduct/translations -l fr --no-fuzzy-matching \
		--no-wrap --ignore-obsolete
	rm messages.pot
