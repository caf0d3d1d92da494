"""Click commands beyond check/init, one module per command (each exposes ``command``).

Modules here import only click and the standard library at import time, so ``perechen --help`` stays fast;
the library is imported inside the command function.
"""

COMMAND_MODULES = ("rules", "diff", "history", "publish", "nightly")
