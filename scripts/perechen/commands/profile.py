"""``perechen profile``: an agency's profile — a rules folder of its own (issue 14 §1).

``perechen profile new DIR`` copies the default profile (the rules shipped with perechen) into DIR with an
instruction in Russian (ИНСТРУКЦИЯ.md); ``perechen rules --rules DIR --check`` validates it.
"""

from __future__ import annotations

from pathlib import Path

import click

from ._common import CONTEXT, RuCommand, RuGroup, guarded


@click.group("profile", cls=RuGroup, context_settings=CONTEXT)
def command() -> None:
    """Профиль правил органа власти: его порядок, виды точек, справочники, уровни замечаний."""


@command.command("new", cls=RuCommand, context_settings=CONTEXT)
@click.argument("folder", metavar="ПАПКА", type=click.Path(path_type=Path))
@guarded()
def new(folder: Path) -> None:
    """Создать профиль в папке ПАПКА (новой или пустой): копия встроенных правил и инструкция
    ИНСТРУКЦИЯ.md о том, как привести их к порядку вашего органа. Затем проверьте профиль:
    perechen rules --rules ПАПКА --check."""
    from .. import api
    from ..profiles import GUIDE_NAME

    made = api.new_profile(folder)
    click.echo(f"Профиль создан: {made}. Прочитайте {made / GUIDE_NAME}, измените правила под порядок органа и "
               f"проверьте профиль: perechen rules --rules \"{made}\" --check")
