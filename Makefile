# One obvious command for each job. Each sets up .venv first (Python 3.11+).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
# Another checkout whose hub bench.dashboard_load also measures (ratios this / it): make bench BASELINE=../main-before
BASELINE ?=

.PHONY: install demo test check bench clean lock

$(BIN)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Homeroom needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt -e '.[test]'
	@touch $@

install: $(BIN)/.installed

demo: install  ## generate a synthetic district, serve it, print persona tokens
	$(BIN)/homeroom demo $(ARGS)

test: install  ## the whole test suite
	$(BIN)/python -m pytest $(ARGS)

check: install  ## lint and types
	$(BIN)/ruff check hub adapters tests bench
	$(BIN)/ruff format --check hub adapters tests bench
	$(BIN)/mypy hub adapters

bench: install  ## benchmarks; each prints ratios against a baseline measured in the same run
	$(BIN)/python -m bench.throughput
	$(BIN)/python -m bench.policy
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.upstream
	$(BIN)/python -m bench.demo_ready
	$(BIN)/python -m bench.dashboard_load $(if $(BASELINE),--baseline-tree $(BASELINE))
	$(BIN)/python -m bench.dashboard_cpu
	$(BIN)/python -m bench.freshness

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache homeroom-demo

lock:  ## constraints.txt: the newest releases pyproject.toml admits, resolved in a fresh venv
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-lock/bin/python -m pip install --quiet '.[test]'
	{ head -2 constraints.txt; $(VENV)-lock/bin/python -m pip freeze --exclude-editable | grep -v -i '^homeroom[ =@]'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf $(VENV)-lock
