# Measurement targets (included by the main Makefile, which defines VENV, PY and venv). Not
# part of `make test`: tests/images/test_query.py runs the same bench code at a small size.

.PHONY: bench

SIZES ?= 1000 10000 100000
BENCH_OUT ?= benchmarks/search.json

# Items read by lists and searches, ours beside the seed's full-table Scan, for each size:
# $(BENCH_OUT) and a table (scripts/bench_search.py says how).
bench: venv
	$(PY) scripts/bench_search.py --sizes $(SIZES) --out $(BENCH_OUT)
