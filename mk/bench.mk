# Measurement targets (included by the main Makefile, which defines VENV, PY and venv). Not
# part of `make test`: tests/images/test_query.py runs the same bench code at a small size.

.PHONY: bench bench-100k

SIZES ?= 1000 10000
BENCH_OUT ?= benchmarks/search.json

# Read capacity (RCU), DynamoDB calls and requests of lists and searches, first page and whole
# result, ours beside the seed's full-table Scan and the merge-join bound, for each size:
# $(BENCH_OUT) and a table (scripts/bench_search.py says how). About 5 minutes (most of it
# the emulator's filtered Scans at 10,000).
bench: venv
	$(PY) scripts/bench_search.py --sizes $(SIZES) --out $(BENCH_OUT)

# The same at 100,000 images, loaded straight into the emulator; the seed's filtered Scan is
# not run (its cost is the table's, computed), so the bound's matches are ours. Longer.
bench-100k: venv
	$(PY) scripts/bench_search.py --sizes 100000 --out benchmarks/search-100000.json
