"""The sample register (perechen.xlsx) ships inside the package as ``perechen._workbook`` (see setup.py).

``perechen nightly --demo`` and the wheel check in .ci/run use it; perechen finds it with ``importlib.resources``.
"""
