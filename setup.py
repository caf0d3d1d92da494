"""Package list for setuptools (everything else is in pyproject.toml).

rules/ and workbook/ stay at the top level, where people edit them, and ship inside the package as
``perechen._rules`` and ``perechen._workbook`` (package-dir in pyproject.toml maps them). They are listed here
because ``packages.find`` only looks under scripts/. Each has an ``__init__.py`` so that an editable install
maps it to the real folder (edits take effect at once) and ``importlib.resources.files`` returns a plain path.
No symlink and no copy step: the same layout works for an sdist, a wheel and an editable install, on Windows too.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("scripts", include=["perechen", "perechen.*"]), "perechen._rules", "perechen._workbook"])
