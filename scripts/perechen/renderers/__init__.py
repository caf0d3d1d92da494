"""The report files people open: the check's ``report.html`` (with the annotated copy made by
:mod:`perechen.annotate`) in :mod:`.check`, and ``diff.html`` / ``diff.xlsx`` in :mod:`.diff`.

Each renderer takes a finished result (a :class:`~perechen.report.CheckReport`, a
:class:`~perechen.diff.DiffReport`) and only presents it; pages come from :mod:`perechen.jinja`.
"""
