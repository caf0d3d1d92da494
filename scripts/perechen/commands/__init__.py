"""The click layer's commands, one module per command (each exposes ``command``); shared bits in ``_common``.

Modules here import only click, ``_common`` and the standard library at import time, so ``perechen --help``
stays fast; the library (:mod:`perechen.api`, and renderers of its results) is imported inside the command.
"""
