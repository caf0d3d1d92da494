# Made by tests/test_jinja_compiled.py from perechen/templates/region.html (template set "region") — do not edit;
# perechen.jinja uses it only while both hashes below still hold, else compiles the template itself.
# ruff: noqa
# mypy: ignore-errors
TEMPLATE_SHA256 = '3cad11b6ecff435a36f88ab7cad719410f63fc59a1fc00f34a26d6e5c6c9992f'
ENVIRONMENT_SHA256 = '6bb95f68bdf9b2f1f6e8c1e1b27da2097bfc0e4ce45c8b823b0410cbcdabd9cc'
from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'region.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_region = resolve('region')
    l_0_today = resolve('today')
    l_0_count = resolve('count')
    l_0_agencies_word = resolve('agencies_word')
    l_0_total_rows = resolve('total_rows')
    l_0_total_errors = resolve('total_errors')
    l_0_total_warnings = resolve('total_warnings')
    l_0_total_pending = resolve('total_pending')
    l_0_failed = resolve('failed')
    l_0_overdue = resolve('overdue')
    l_0_with_errors = resolve('with_errors')
    l_0_order_title = resolve('order_title')
    l_0_direction = resolve('direction')
    l_0_headers = resolve('headers')
    l_0_rows = resolve('rows')
    l_0_chart_svg = resolve('chart_svg')
    l_0_opendata = resolve('opendata')
    try:
        t_1 = environment.filters['lower']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'lower' found.")
    pass
    yield '<!doctype html>\n<html lang="ru">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="generator" content="perechen">\n<title>Перечни точек взаимодействия органов власти — '
    yield escape((undefined(name='region') if l_0_region is missing else l_0_region))
    yield '</title>\n<style>\n  :root { color-scheme: light; }\n  * { box-sizing: border-box; }\n  body { font-family: "PT Sans", "Segoe UI", Arial, sans-serif; font-size: 1rem; line-height: 1.45; color: #1a1a1a;\n         background: #fff; margin: 0 auto; max-width: 72rem; padding: 1rem; }\n  h1 { font-size: 1.6rem; margin: .2rem 0 .6rem; }\n  h2 { font-size: 1.3rem; margin: 1.8rem 0 .5rem; border-bottom: 2px solid #d0d7e2; padding-bottom: .2rem; }\n  a { color: #0b4f9c; }\n  a:focus { outline: 3px solid #ffbf47; outline-offset: 2px; }\n  table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }\n  caption { text-align: left; font-weight: bold; padding: .2rem 0; }\n  th, td { border: 1px solid #8c96a3; padding: .3rem .45rem; text-align: left; vertical-align: top;\n           overflow-wrap: break-word; hyphens: manual; }\n  thead th { background: #eef2f7; }\n  thead th a { display: block; }\n  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }\n  th[aria-sort] { background: #dbe5f1; }\n  tbody th { overflow-wrap: anywhere; }  /* a name with an unbreakable token must not widen the page */\n  .muted { color: #4a5260; }\n  .late { color: #b3261e; font-weight: bold; }\n  .soon { color: #8a5a00; font-weight: bold; }\n  .banner { border: 2px solid; border-radius: 4px; padding: .6rem .8rem; margin: .8rem 0; }\n  .banner p { margin: .2rem 0; }\n  .banner.errors { border-color: #b3261e; background: #fdecea; }\n  .banner.ok { border-color: #2e7d32; background: #edf7ee; }\n  .badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-weight: bold; font-size: .9rem; }\n  .badge.failed, .badge.errors { background: #b3261e; color: #fff; }\n  .badge.warnings { background: #ffd54f; color: #1a1a1a; }\n  .badge.ok { background: #2e7d32; color: #fff; }\n  .note { font-size: .9rem; font-weight: normal; margin: .2rem 0 0; overflow-wrap: anywhere; }\n  .banner p { overflow-wrap: anywhere; }\n  figure { margin: .5rem 0 1rem; }\n  figure svg { width: 100%; height: auto; max-width: 46rem; display: block; }\n  figcaption { font-weight: bold; }\n  ul.files { padding-left: 1.2rem; }\n  ul.files li { overflow-wrap: anywhere; }\n  @media (max-width: 40rem) {\n    body { padding: .5rem; }\n    th, td { padding: .25rem .3rem; font-size: .9rem; }\n  }\n</style>\n</head>\n<body>\n<main>\n<h1>Перечни точек взаимодействия с клиентом — '
    yield escape((undefined(name='region') if l_0_region is missing else l_0_region))
    yield '</h1>\n<p>Сводка проектного офиса на '
    yield escape((undefined(name='today') if l_0_today is missing else l_0_today))
    yield ': '
    yield escape((undefined(name='count') if l_0_count is missing else l_0_count))
    yield ' '
    yield escape((undefined(name='agencies_word') if l_0_agencies_word is missing else l_0_agencies_word))
    yield ', точек '
    yield escape((undefined(name='total_rows') if l_0_total_rows is missing else l_0_total_rows))
    yield ',\nошибок '
    yield escape((undefined(name='total_errors') if l_0_total_errors is missing else l_0_total_errors))
    yield ', предупреждений '
    yield escape((undefined(name='total_warnings') if l_0_total_warnings is missing else l_0_total_warnings))
    yield ', изменений ждут размещения на официальных сайтах:\n'
    yield escape((undefined(name='total_pending') if l_0_total_pending is missing else l_0_total_pending))
    yield '.</p>\n'
    if (((undefined(name='failed') if l_0_failed is missing else l_0_failed) or (undefined(name='overdue') if l_0_overdue is missing else l_0_overdue)) or (undefined(name='with_errors') if l_0_with_errors is missing else l_0_with_errors)):
        pass
        yield '<div class="banner errors" role="status">\n'
        if (undefined(name='failed') if l_0_failed is missing else l_0_failed):
            pass
            yield '<p>Книга не прочитана: '
            l_1_loop = missing
            for l_1_a, l_1_loop in LoopContext((undefined(name='failed') if l_0_failed is missing else l_0_failed), undefined):
                _loop_vars = {}
                pass
                yield escape(environment.getattr(l_1_a, 'name'))
                if (not environment.getattr(l_1_loop, 'last')):
                    pass
                    yield ', '
            l_1_loop = l_1_a = missing
            yield '.</p>'
        if (undefined(name='overdue') if l_0_overdue is missing else l_0_overdue):
            pass
            yield '<p>Срок размещения (п. 5.4) пропущен: '
            l_1_loop = missing
            for l_1_a, l_1_loop in LoopContext((undefined(name='overdue') if l_0_overdue is missing else l_0_overdue), undefined):
                _loop_vars = {}
                pass
                yield escape(environment.getattr(l_1_a, 'name'))
                if (not environment.getattr(l_1_loop, 'last')):
                    pass
                    yield ', '
            l_1_loop = l_1_a = missing
            yield '.</p>'
        if (undefined(name='with_errors') if l_0_with_errors is missing else l_0_with_errors):
            pass
            yield '<p>Ошибки в перечне: '
            l_1_loop = missing
            for l_1_a, l_1_loop in LoopContext((undefined(name='with_errors') if l_0_with_errors is missing else l_0_with_errors), undefined):
                _loop_vars = {}
                pass
                yield escape(environment.getattr(l_1_a, 'name'))
                if (not environment.getattr(l_1_loop, 'last')):
                    pass
                    yield ', '
            l_1_loop = l_1_a = missing
            yield '.</p>'
        yield '</div>\n'
    else:
        pass
        yield '<div class="banner ok" role="status"><p>Замечаний нет: ошибок нет, сроки размещения не пропущены.</p></div>\n'
    yield '\n<h2 id="agencies">Органы власти</h2>\n<table>\n<caption>Органы власти: точки, замечания проверки, изменения и срок размещения по п. 5.4; сортировка — '
    yield escape(t_1((undefined(name='order_title') if l_0_order_title is missing else l_0_order_title)))
    yield ', '
    yield escape((undefined(name='direction') if l_0_direction is missing else l_0_direction))
    yield ' (щёлкните заголовок столбца, чтобы упорядочить по нему)</caption>\n<thead>\n<tr>\n'
    for l_1_h in (undefined(name='headers') if l_0_headers is missing else l_0_headers):
        _loop_vars = {}
        pass
        yield '<th scope="col"'
        if environment.getattr(environment.getattr(l_1_h, 'col'), 'numeric'):
            pass
            yield ' class="num"'
        if environment.getattr(l_1_h, 'aria'):
            pass
            yield ' aria-sort="'
            yield escape(environment.getattr(l_1_h, 'aria'))
            yield '"'
        yield '><a href="'
        yield escape(environment.getattr(l_1_h, 'href'))
        yield '">'
        yield escape(environment.getattr(environment.getattr(l_1_h, 'col'), 'title'))
        yield '<span class="visually-hidden" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"> — упорядочить '
        yield escape(environment.getattr(l_1_h, 'hint'))
        yield '</span>'
        if environment.getattr(l_1_h, 'current'):
            pass
            yield ' '
            yield escape(('▲' if (environment.getattr(l_1_h, 'aria') == 'ascending') else '▼'))
        yield '</a></th>\n'
    l_1_h = missing
    yield '</tr>\n</thead>\n<tbody>\n'
    for l_1_r in (undefined(name='rows') if l_0_rows is missing else l_0_rows):
        _loop_vars = {}
        pass
        yield escape(l_1_r)
    l_1_r = missing
    yield '</tbody>\n</table>\n\n<h2 id="chart">Замечания и изменения по органам</h2>\n<figure>\n'
    yield escape((undefined(name='chart_svg') if l_0_chart_svg is missing else l_0_chart_svg))
    yield '<figcaption>Ошибки, предупреждения и изменения, ждущие размещения на официальном сайте, по органам (те же числа — в таблице выше).</figcaption>\n</figure>\n\n<h2 id="opendata">Открытые данные региона</h2>\n<p>Сводный набор: точки взаимодействия, размещённые органами на официальных сайтах (последняя размещённая версия каждого органа), с наименованием и ИНН органа; методические рекомендации, версия 3.0, и описание Frictionless.</p>\n<ul class="files">\n'
    for (l_1_name, l_1_href) in (undefined(name='opendata') if l_0_opendata is missing else l_0_opendata):
        _loop_vars = {}
        pass
        yield '<li><a href="'
        yield escape(l_1_href)
        yield '">'
        yield escape(l_1_name)
        yield '</a></li>\n'
    l_1_name = l_1_href = missing
    yield '</ul>\n</main>\n</body>\n</html>'

blocks = {}
debug_info = '7=35&52=37&53=39&54=47&55=51&56=53&58=56&59=69&60=82&68=100&71=104&72=108&77=130&83=136&89=138&90=142'
