# Made by tests/test_jinja_compiled.py from perechen/templates/report.html.j2 (template set "check-report") — do not edit;
# perechen.jinja uses it only while both hashes below still hold, else compiles the template itself.
# ruff: noqa
# mypy: ignore-errors
TEMPLATE_SHA256 = '68a763bbd194df35525a44c30003f6a3f0fbd35ce927cdf9df7ca3a299db919c'
ENVIRONMENT_SHA256 = '6bb95f68bdf9b2f1f6e8c1e1b27da2097bfc0e4ce45c8b823b0410cbcdabd9cc'
from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'report.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_workbook = resolve('workbook')
    l_0_when = resolve('when')
    l_0_workbook_path = resolve('workbook_path')
    l_0_sheet = resolve('sheet')
    l_0_rows = resolve('rows')
    l_0_errors = resolve('errors')
    l_0_warnings = resolve('warnings')
    l_0_notes = resolve('notes')
    l_0_infos = resolve('infos')
    l_0_total = resolve('total')
    l_0_xlsx_name = resolve('xlsx_name')
    l_0_xlsx_href = resolve('xlsx_href')
    l_0_limit = resolve('limit')
    l_0_persons = resolve('persons')
    l_0_hidden_persons = resolve('hidden_persons')
    l_0_plural = resolve('plural')
    l_0_rule_groups = resolve('rule_groups')
    l_0_hidden_rules = resolve('hidden_rules')
    pass
    yield '<!doctype html>\n<html lang="ru">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>Проверка перечня: '
    yield escape((undefined(name='workbook') if l_0_workbook is missing else l_0_workbook))
    yield ' — '
    yield escape((undefined(name='when') if l_0_when is missing else l_0_when))
    yield '</title>\n<style>\n  :root { color-scheme: light; }\n  body { font-family: "PT Sans", "Segoe UI", Arial, sans-serif; font-size: 1rem; line-height: 1.45;\n         color: #1a1a1a; background: #fff; margin: 0 auto; padding: 1rem; max-width: 80rem; }\n  h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }\n  h2 { font-size: 1.35rem; margin: 2rem 0 .75rem; border-bottom: 2px solid #444; padding-bottom: .2rem; }\n  h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; overflow-wrap: anywhere; }\n  a { color: #0b4f9c; }\n  a:focus { outline: 3px solid #1a1a1a; outline-offset: 2px; }\n  p, li { overflow-wrap: anywhere; }\n  .verdict { font-size: 1.15rem; font-weight: bold; padding: .6rem .8rem; border-left: .4rem solid; }\n  .verdict.bad { background: #fde8e8; border-color: #a30000; }\n  .verdict.good { background: #e6f4ea; border-color: #1e6b34; }\n  .note { background: #fff4d6; border-left: .4rem solid #8a5a00; padding: .5rem .8rem; }\n  table { border-collapse: collapse; width: 100%; margin: .25rem 0 .5rem; }\n  caption { text-align: left; font-weight: bold; padding: .3rem 0; overflow-wrap: anywhere; }\n  th, td { border: 1px solid #767676; padding: .3rem .45rem; text-align: left; vertical-align: top;\n           overflow-wrap: anywhere; word-break: break-word; }\n  thead th { background: #e8e8e8; overflow-wrap: normal; word-break: normal; hyphens: auto; }\n  tbody th { font-weight: normal; white-space: nowrap; }\n  td.num { text-align: right; }\n  .sev { font-weight: bold; white-space: nowrap; }\n  .code { white-space: nowrap; overflow-wrap: normal; word-break: normal; }\n  .sev-error { color: #8b0000; }\n  .sev-warning { color: #6b4700; }\n  .sev-info { color: #0b4f9c; }\n  tr.sev-row-error > th:first-child { border-left: .35rem solid #c00000; }\n  tr.sev-row-warning > th:first-child { border-left: .35rem solid #d4a000; }\n  tr.sev-row-info > th:first-child { border-left: .35rem solid #5b9bd5; }\n  .value { font-family: "PT Mono", Consolas, monospace; font-size: .92em; white-space: pre-wrap; }\n  .more { font-style: italic; margin: 0 0 1rem; }\n  nav ul { padding-left: 1.2rem; }\n  footer { margin-top: 2.5rem; font-size: .9rem; color: #3d3d3d; border-top: 1px solid #767676; padding-top: .5rem; }\n  @media (max-width: 48em) {\n    table, thead, tbody, tr, th, td { display: block; }\n    thead tr { position: absolute; left: -10000px; top: auto; width: 1px; height: 1px; overflow: hidden; }\n    tbody tr { border: 1px solid #767676; margin-bottom: .6rem; }\n    tbody th, tbody td { border: none; border-bottom: 1px solid #d0d0d0; white-space: normal; }\n    tbody td::before { content: attr(data-label) ": "; font-weight: bold; }\n    td.num { text-align: left; }\n  }\n</style>\n</head>\n<body>\n<header>\n<p>Перечень точек взаимодействия с клиентом — результат автоматической проверки</p>\n</header>\n<main>\n<h1>Проверка перечня «'
    yield escape((undefined(name='workbook') if l_0_workbook is missing else l_0_workbook))
    yield '»</h1>\n<p>Файл: '
    yield escape((undefined(name='workbook_path') if l_0_workbook_path is missing else l_0_workbook_path))
    if (undefined(name='sheet') if l_0_sheet is missing else l_0_sheet):
        pass
        yield ', лист «'
        yield escape((undefined(name='sheet') if l_0_sheet is missing else l_0_sheet))
        yield '»'
    yield '. Проверено '
    yield escape((undefined(name='when') if l_0_when is missing else l_0_when))
    yield '. Строк в перечне: '
    yield escape((undefined(name='rows') if l_0_rows is missing else l_0_rows))
    yield '.</p>\n'
    if (undefined(name='errors') if l_0_errors is missing else l_0_errors):
        pass
        yield '<p class="verdict bad">Найдены ошибки: '
        yield escape((undefined(name='errors') if l_0_errors is missing else l_0_errors))
        yield '. Перечень нужно исправить.</p>\n'
    else:
        pass
        yield '<p class="verdict good">Ошибок нет.'
        if (undefined(name='warnings') if l_0_warnings is missing else l_0_warnings):
            pass
            yield ' Есть предупреждения: '
            yield escape((undefined(name='warnings') if l_0_warnings is missing else l_0_warnings))
            yield '.'
        yield '</p>\n'
    for l_1_note in (undefined(name='notes') if l_0_notes is missing else l_0_notes):
        _loop_vars = {}
        pass
        yield '<p class="note">'
        yield escape(l_1_note)
        yield '</p>\n'
    l_1_note = missing
    yield '\n<table>\n<caption>Итоги проверки</caption>\n<thead><tr><th scope="col">Уровень</th><th scope="col">Количество</th></tr></thead>\n<tbody>\n<tr><th scope="row"><span class="sev sev-error">Ошибки</span></th><td class="num" data-label="Количество">'
    yield escape((undefined(name='errors') if l_0_errors is missing else l_0_errors))
    yield '</td></tr>\n<tr><th scope="row"><span class="sev sev-warning">Предупреждения</span></th><td class="num" data-label="Количество">'
    yield escape((undefined(name='warnings') if l_0_warnings is missing else l_0_warnings))
    yield '</td></tr>\n<tr><th scope="row"><span class="sev sev-info">Справочно</span></th><td class="num" data-label="Количество">'
    yield escape((undefined(name='infos') if l_0_infos is missing else l_0_infos))
    yield '</td></tr>\n<tr><th scope="row">Всего замечаний</th><td class="num" data-label="Количество">'
    yield escape((undefined(name='total') if l_0_total is missing else l_0_total))
    yield '</td></tr>\n</tbody>\n</table>\n\n'
    if (undefined(name='xlsx_name') if l_0_xlsx_name is missing else l_0_xlsx_name):
        pass
        yield '<p>Все замечания отмечены в копии книги: <a href="'
        yield escape((undefined(name='xlsx_href') if l_0_xlsx_href is missing else l_0_xlsx_href))
        yield '">'
        yield escape((undefined(name='xlsx_name') if l_0_xlsx_name is missing else l_0_xlsx_name))
        yield '</a> — ячейки с ошибками залиты красным, с предупреждениями — жёлтым, со справочными замечаниями — голубым; у каждой ячейки есть примечание, а на первом листе «Замечания» собран список со ссылками на ячейки. Исходный файл не изменялся.</p>\n'
    yield '<p>Полный список в машиночитаемом виде: <a href="report.json">report.json</a>.'
    if ((undefined(name='total') if l_0_total is missing else l_0_total) > (undefined(name='limit') if l_0_limit is missing else l_0_limit)):
        pass
        yield ' На этой странице в каждой группе показано не больше '
        yield escape((undefined(name='limit') if l_0_limit is missing else l_0_limit))
        yield ' замечаний.'
    yield '</p>\n\n'
    if (undefined(name='total') if l_0_total is missing else l_0_total):
        pass
        yield '<nav aria-label="Содержание">\n<h2 id="toc">Содержание</h2>\n<ul>\n<li><a href="#by-person">Замечания по ответственным</a></li>\n<li><a href="#by-rule">Замечания по правилам</a></li>\n</ul>\n</nav>\n\n<section aria-labelledby="by-person">\n<h2 id="by-person">Замечания по ответственным</h2>\n<table>\n<caption>Сколько замечаний у каждого ответственного</caption>\n<thead><tr><th scope="col">Ответственный</th><th scope="col">Ошибки</th><th scope="col">Предупреждения</th><th scope="col">Справочно</th></tr></thead>\n<tbody>\n'
        for l_1_g in (undefined(name='persons') if l_0_persons is missing else l_0_persons):
            _loop_vars = {}
            pass
            yield '<tr><th scope="row"><a href="#'
            yield escape(environment.getattr(l_1_g, 'id'))
            yield '">'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield '</a></th><td class="num" data-label="Ошибки">'
            yield escape(environment.getattr(l_1_g, 'errors'))
            yield '</td><td class="num" data-label="Предупреждения">'
            yield escape(environment.getattr(l_1_g, 'warnings'))
            yield '</td><td class="num" data-label="Справочно">'
            yield escape(environment.getattr(l_1_g, 'infos'))
            yield '</td></tr>\n'
        l_1_g = missing
        yield '</tbody>\n</table>\n'
        if (undefined(name='hidden_persons') if l_0_hidden_persons is missing else l_0_hidden_persons):
            pass
            yield '<p class="more">… и ещё '
            yield escape((undefined(name='hidden_persons') if l_0_hidden_persons is missing else l_0_hidden_persons))
            yield ' '
            yield escape(context.call((undefined(name='plural') if l_0_plural is missing else l_0_plural), (undefined(name='hidden_persons') if l_0_hidden_persons is missing else l_0_hidden_persons), 'ответственный', 'ответственных', 'ответственных'))
            yield ': их замечания — в копии книги и в report.json.</p>'
        yield '\n'
        for l_1_g in (undefined(name='persons') if l_0_persons is missing else l_0_persons):
            l_1_counts_text = resolve('counts_text')
            l_1_more_text = resolve('more_text')
            _loop_vars = {}
            pass
            yield '<h3 id="'
            yield escape(environment.getattr(l_1_g, 'id'))
            yield '">'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield '</h3>\n<table>\n<caption>'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield ': '
            yield escape(context.call((undefined(name='counts_text') if l_1_counts_text is missing else l_1_counts_text), l_1_g, _loop_vars=_loop_vars))
            yield '</caption>\n<thead><tr><th scope="col">Ячейка</th><th scope="col">Уровень</th><th scope="col">Правило</th><th scope="col">Источник правила</th><th scope="col">Текущее значение</th><th scope="col">Замечание</th></tr></thead>\n<tbody>\n'
            for l_2_it in environment.getattr(l_1_g, 'items'):
                _loop_vars = {}
                pass
                yield '<tr class="sev-row-'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'value'))
                yield '"><th scope="row">'
                yield escape(environment.getattr(l_2_it, 'where'))
                yield '</th><td data-label="Уровень"><span class="sev sev-'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'value'))
                yield '">'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'label'))
                yield '</span></td><td data-label="Правило">'
                yield escape(environment.getattr(l_2_it, 'title'))
                yield ' (<span class="code">'
                yield escape(environment.getattr(l_2_it, 'code'))
                yield '</span>)</td><td data-label="Источник правила">'
                yield escape((environment.getattr(l_2_it, 'clause') or '—'))
                yield '</td><td data-label="Текущее значение" class="value">'
                yield escape(environment.getattr(l_2_it, 'value'))
                yield '</td><td data-label="Замечание">'
                yield escape(environment.getattr(l_2_it, 'message'))
                yield '</td></tr>\n'
            l_2_it = missing
            yield '</tbody>\n</table>\n'
            if environment.getattr(l_1_g, 'more'):
                pass
                yield '<p class="more">'
                yield escape(context.call((undefined(name='more_text') if l_1_more_text is missing else l_1_more_text), environment.getattr(l_1_g, 'more'), _loop_vars=_loop_vars))
                yield ' — см. копию книги или report.json.</p>'
        l_1_g = l_1_counts_text = l_1_more_text = missing
        yield '</section>\n\n<section aria-labelledby="by-rule">\n<h2 id="by-rule">Замечания по правилам</h2>\n<table>\n<caption>Сколько раз сработало каждое правило</caption>\n<thead><tr><th scope="col">Правило</th><th scope="col">Уровень</th><th scope="col">Источник правила</th><th scope="col">Замечаний</th></tr></thead>\n<tbody>\n'
        for l_1_g in (undefined(name='rule_groups') if l_0_rule_groups is missing else l_0_rule_groups):
            _loop_vars = {}
            pass
            yield '<tr><th scope="row"><a href="#'
            yield escape(environment.getattr(l_1_g, 'id'))
            yield '">'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield ' (<span class="code">'
            yield escape(environment.getattr(l_1_g, 'code'))
            yield '</span>)</a></th><td data-label="Уровень"><span class="sev sev-'
            yield escape(environment.getattr(environment.getattr(l_1_g, 'severity'), 'value'))
            yield '">'
            yield escape(environment.getattr(environment.getattr(l_1_g, 'severity'), 'label'))
            yield '</span></td><td data-label="Источник правила">'
            yield escape((environment.getattr(l_1_g, 'clause') or '—'))
            yield '</td><td class="num" data-label="Замечаний">'
            yield escape(environment.getattr(l_1_g, 'total'))
            yield '</td></tr>\n'
        l_1_g = missing
        yield '</tbody>\n</table>\n'
        if (undefined(name='hidden_rules') if l_0_hidden_rules is missing else l_0_hidden_rules):
            pass
            yield '<p class="more">… и ещё '
            yield escape((undefined(name='hidden_rules') if l_0_hidden_rules is missing else l_0_hidden_rules))
            yield ' '
            yield escape(context.call((undefined(name='plural') if l_0_plural is missing else l_0_plural), (undefined(name='hidden_rules') if l_0_hidden_rules is missing else l_0_hidden_rules), 'правило', 'правила', 'правил'))
            yield ': см. копию книги или report.json.</p>'
        yield '\n'
        for l_1_g in (undefined(name='rule_groups') if l_0_rule_groups is missing else l_0_rule_groups):
            l_1_counts_text = resolve('counts_text')
            l_1_more_text = resolve('more_text')
            _loop_vars = {}
            pass
            yield '<h3 id="'
            yield escape(environment.getattr(l_1_g, 'id'))
            yield '">'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield ' (<span class="code">'
            yield escape(environment.getattr(l_1_g, 'code'))
            yield '</span>)'
            if environment.getattr(l_1_g, 'clause'):
                pass
                yield ' — '
                yield escape(environment.getattr(l_1_g, 'clause'))
            yield '</h3>\n<table>\n<caption>'
            yield escape(environment.getattr(l_1_g, 'title'))
            yield ': '
            yield escape(context.call((undefined(name='counts_text') if l_1_counts_text is missing else l_1_counts_text), l_1_g, _loop_vars=_loop_vars))
            yield '</caption>\n<thead><tr><th scope="col">Ячейка</th><th scope="col">Уровень</th><th scope="col">Ответственный</th><th scope="col">Текущее значение</th><th scope="col">Замечание</th></tr></thead>\n<tbody>\n'
            for l_2_it in environment.getattr(l_1_g, 'items'):
                _loop_vars = {}
                pass
                yield '<tr class="sev-row-'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'value'))
                yield '"><th scope="row">'
                yield escape(environment.getattr(l_2_it, 'where'))
                yield '</th><td data-label="Уровень"><span class="sev sev-'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'value'))
                yield '">'
                yield escape(environment.getattr(environment.getattr(l_2_it, 'severity'), 'label'))
                yield '</span></td><td data-label="Ответственный">'
                yield escape(environment.getattr(l_2_it, 'who'))
                yield '</td><td data-label="Текущее значение" class="value">'
                yield escape(environment.getattr(l_2_it, 'value'))
                yield '</td><td data-label="Замечание">'
                yield escape(environment.getattr(l_2_it, 'message'))
                yield '</td></tr>\n'
            l_2_it = missing
            yield '</tbody>\n</table>\n'
            if environment.getattr(l_1_g, 'more'):
                pass
                yield '<p class="more">'
                yield escape(context.call((undefined(name='more_text') if l_1_more_text is missing else l_1_more_text), environment.getattr(l_1_g, 'more'), _loop_vars=_loop_vars))
                yield ' — см. копию книги или report.json.</p>'
        l_1_g = l_1_counts_text = l_1_more_text = missing
        yield '</section>\n'
    else:
        pass
        yield '<p>Замечаний нет.</p>\n'
    yield '</main>\n<footer>\n<p>Отчёт составлен программой perechen '
    yield escape((undefined(name='when') if l_0_when is missing else l_0_when))
    yield '.</p>\n<section aria-labelledby="legend">\n<h2 id="legend">Как читать отчёт</h2>\n<p>Столбец «Источник правила» говорит, откуда правило:</p>\n<ul>\n<li>«п. … Порядка» — требование Порядка ведения перечня точек взаимодействия (приказ Службы от 26.02.2024 № 25-о): этот пункт действительно требует того, о чём сказано в замечании;</li>\n<li>«правило ведения перечня в Службе» — правило, которое Служба установила сама для ведения книги (состав столбцов, код точки, дата и номер основания, срок проверки строки, заполнение листа «Сведения» и т. п.). Порядок его не требует: это не нарушение Порядка, а соглашение Службы, и его уровень Служба может изменить в rules/checks.toml.</li>\n</ul>\n<p>Уровни: «ошибка» — перечень нужно исправить; «предупреждение» — стоит проверить; «справочно» — для информации, ничего исправлять не нужно.</p>\n</section>\n</footer>\n</body>\n</html>'

blocks = {}
debug_info = '6=30&55=34&56=36&57=47&58=50&60=55&62=61&63=65&70=69&71=71&72=73&73=75&77=77&78=80&80=85&82=91&97=94&98=98&102=110&104=118&105=124&107=128&110=132&111=136&115=156&125=163&126=167&130=183&132=191&133=197&135=208&138=212&139=216&143=232&151=243'
