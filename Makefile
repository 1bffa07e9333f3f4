# Two commands on a fresh machine (see README):
#   make demo   set up .venv if needed, run the reference demo
#   make test   set up .venv if needed, run the tests serially and under mpirun -n 2
VENV := .venv
BIN := $(VENV)/bin
NP ?= 2

.PHONY: setup demo test benchmark

setup:
	@scripts/bootstrap.sh

demo: setup
	$(BIN)/rimmodel demo

test:
	@scripts/bootstrap.sh --with-browser
	scripts/run_tests.sh $(NP)

benchmark: setup
	$(BIN)/python benchmarks/reference_run.py
