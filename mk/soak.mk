# `make soak`: the model-based concurrency and fault test (tests/images/test_model_concurrency.py)
# on random seeds for SOAK_SECONDS (included by the main Makefile, which defines VENV, PY and venv).
# Each failure prints its seed; `MODEL_SEED=<seed> make soak` replays exactly that schedule.

.PHONY: soak

SOAK_SECONDS ?= 600

soak: venv
	$(if $(MODEL_SEED),MODEL_SEED=$(MODEL_SEED),SOAK_SECONDS=$(SOAK_SECONDS)) $(PY) -m pytest -p no:cacheprovider -s -q tests/images/test_model_concurrency.py
