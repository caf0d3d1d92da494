"""This folder is the source of the rules and ships inside the package as ``perechen._rules``.

Edit the ``.toml`` files here; an editable install (``pip install -e .``) reads them from this folder, a
built wheel carries a copy (see setup.py). perechen finds them with ``importlib.resources``, never by a path
relative to the checkout or the current folder. Your own rules: ``rules = "…"`` in perechen.toml.
"""
