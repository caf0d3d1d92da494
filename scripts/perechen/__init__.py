"""perechen — перечень точек взаимодействия с клиентом по Порядку Службы гостехнадзора
Калининградской области: чтение книги Excel, проверка правил, сравнение версий, публикация.

The package is a library first; :mod:`perechen.cli` is a thin click layer over it.
Heavy libraries (openpyxl, calamine, jinja2, requests) are imported lazily inside functions so that
``perechen --help`` answers quickly.
"""

__version__ = "0.1.0"
