"""Templates shipped compiled (perechen.jinja.PRECOMPILED): made by tests/test_jinja_compiled.py, never edited."""
