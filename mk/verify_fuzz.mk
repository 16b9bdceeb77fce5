# The verifier's fuzzer for longer than `make test` gives it (tests/images/test_structure.py:
# 10,000 mutated files there). Issue 21 may add a `soak` target: this one can join it.

.PHONY: soak-verify

SOAK_VERIFY_EXAMPLES ?= 300000

soak-verify: venv
	VERIFY_FUZZ_EXAMPLES=$(SOAK_VERIFY_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider \
		tests/images/test_structure.py -k fuzz --hypothesis-show-statistics
