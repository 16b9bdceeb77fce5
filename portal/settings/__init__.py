"""Settings modules: base (shared, from environment variables), local, test, production."""
