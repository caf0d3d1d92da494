# Made by tests/test_jinja_compiled.py from perechen/templates/region-parts.html (template set "region") — do not edit;
# perechen.jinja uses it only while both hashes below still hold, else compiles the template itself.
# ruff: noqa
# mypy: ignore-errors
TEMPLATE_SHA256 = '37d7911b636d29bc1d11e8723d5f0412d38c21caab425c3dfcb30597368d1c3e'
ENVIRONMENT_SHA256 = '6bb95f68bdf9b2f1f6e8c1e1b27da2097bfc0e4ce45c8b823b0410cbcdabd9cc'
from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'region-parts.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_row = l_0_chart_svg = missing
    pass
    def macro(l_1_r):
        t_1 = []
        if l_1_r is missing:
            l_1_r = undefined("parameter 'r' was not provided", name='r')
        pass
        t_1.append(
            '<tr>\n<th scope="row">',
        )
        if environment.getattr(environment.getattr(l_1_r, 'a'), 'report'):
            pass
            t_1.extend((
                '<a href="',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'report')),
                '">',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'name')),
                '</a>',
            ))
        else:
            pass
            t_1.append(
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'name')),
            )
        t_1.extend((
            ' <span class="badge ',
            escape(environment.getattr(l_1_r, 'status')),
            '">',
            escape(environment.getitem({'failed': 'книга не прочитана', 'errors': 'требует внимания', 'warnings': 'предупреждения', 'ok': 'в порядке'}, environment.getattr(l_1_r, 'status'))),
            '</span>\n',
        ))
        if environment.getattr(environment.getattr(l_1_r, 'a'), 'inn'):
            pass
            t_1.extend((
                '<p class="note muted">ИНН ',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'inn')),
                '</p>',
            ))
        if environment.getattr(environment.getattr(l_1_r, 'a'), 'file_error'):
            pass
            t_1.extend((
                '<p class="note late">',
                escape(environment.getattr(environment.getattr(environment.getattr(l_1_r, 'a'), 'file_error'), 'message')),
                '</p>',
            ))
        if environment.getattr(environment.getattr(l_1_r, 'a'), 'act'):
            pass
            t_1.extend((
                '<p class="note">Последний документ: ',
                escape(environment.getattr(environment.getattr(environment.getattr(l_1_r, 'a'), 'act'), 'text')),
                '</p>',
            ))
        if environment.getattr(environment.getattr(l_1_r, 'a'), 'act_note'):
            pass
            t_1.extend((
                '<p class="note muted">',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'act_note')),
                '</p>',
            ))
        t_1.append(
            '</th>\n',
        )
        if (environment.getattr(environment.getattr(l_1_r, 'a'), 'file_error') and (not environment.getattr(environment.getattr(l_1_r, 'a'), 'rows'))):
            pass
            t_1.append(
                '<td class="num">—</td><td class="num">—</td><td class="num">—</td><td class="num">—</td><td>—</td>\n',
            )
        else:
            pass
            t_1.extend((
                '<td class="num">',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'rows')),
                '</td>\n<td class="num">',
            ))
            if environment.getattr(environment.getattr(l_1_r, 'a'), 'errors'):
                pass
                t_1.extend((
                    '<span class="late">',
                    escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'errors')),
                    '</span>',
                ))
            else:
                pass
                t_1.append(
                    '0',
                )
            t_1.extend((
                '</td>\n<td class="num">',
                escape(environment.getattr(environment.getattr(l_1_r, 'a'), 'warnings')),
                '</td>\n<td class="num">',
                escape((environment.getattr(environment.getattr(l_1_r, 'a'), 'pending') if environment.getattr(environment.getattr(l_1_r, 'a'), 'tracked') else '—')),
                '</td>\n<td class="',
                escape(environment.getattr(environment.getattr(l_1_r, 'days'), 'cls')),
                '">',
                escape(environment.getattr(environment.getattr(l_1_r, 'days'), 'text')),
                '</td>\n',
            ))
        t_1.append(
            '</tr>\n',
        )
        return concat(t_1)
    context.exported_vars.add('row')
    context.vars['row'] = l_0_row = Macro(environment, macro, 'row', ('r',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_chart):
        t_2 = []
        if l_1_chart is missing:
            l_1_chart = undefined("parameter 'chart' was not provided", name='chart')
        pass
        t_2.extend((
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ',
            escape(environment.getattr(l_1_chart, 'width')),
            ' ',
            escape(environment.getattr(l_1_chart, 'height')),
            '" role="img" aria-labelledby="chart-title chart-desc">\n<title id="chart-title">Ошибки, предупреждения и изменения, ждущие размещения, по органам власти</title>\n<desc id="chart-desc">',
            escape(environment.getattr(l_1_chart, 'desc')),
            '</desc>\n',
        ))
        for l_2_l in environment.getattr(l_1_chart, 'legend'):
            _loop_vars = {}
            pass
            t_2.extend((
                '<rect x="',
                escape(environment.getattr(l_2_l, 'x')),
                '" y="4" width="12" height="12" fill="',
                escape(environment.getattr(l_2_l, 'color')),
                '"></rect>\n<text x="',
                escape((environment.getattr(l_2_l, 'x') + 16)),
                '" y="15" font-size="13" fill="#1a1a1a">',
                escape(environment.getattr(l_2_l, 'title')),
                '</text>\n',
            ))
        l_2_l = missing
        for l_2_row in environment.getattr(l_1_chart, 'rows'):
            _loop_vars = {}
            pass
            t_2.extend((
                '<text x="0" y="',
                escape(environment.getattr(l_2_row, 'y')),
                '" font-size="13" fill="#1a1a1a">',
                escape(environment.getattr(l_2_row, 'name')),
            ))
            if environment.getattr(l_2_row, 'failed'):
                pass
                t_2.append(
                    ' (не прочитана)',
                )
            t_2.append(
                '</text>\n',
            )
            for l_3_b in environment.getattr(l_2_row, 'bars'):
                _loop_vars = {}
                pass
                t_2.extend((
                    '<rect x="',
                    escape(environment.getattr(l_3_b, 'x')),
                    '" y="',
                    escape(environment.getattr(l_3_b, 'y')),
                    '" width="',
                    escape(environment.getattr(l_3_b, 'w')),
                    '" height="',
                    escape(environment.getattr(l_3_b, 'h')),
                    '" fill="',
                    escape(environment.getattr(l_3_b, 'color')),
                    '"><title>',
                    escape(environment.getattr(l_3_b, 'title')),
                    '</title></rect>\n<text x="',
                    escape(environment.getattr(l_3_b, 'tx')),
                    '" y="',
                    escape(environment.getattr(l_3_b, 'ty')),
                    '" font-size="12" fill="#1a1a1a">',
                    escape(environment.getattr(l_3_b, 'value')),
                    '</text>\n',
                ))
            l_3_b = missing
        l_2_row = missing
        t_2.append(
            '</svg>\n',
        )
        return concat(t_2)
    context.exported_vars.add('chart_svg')
    context.vars['chart_svg'] = l_0_chart_svg = Macro(environment, macro, 'chart_svg', ('chart',), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '2=12&4=20&5=36&6=41&7=48&8=55&9=62&11=72&14=81&15=84&16=98&17=100&18=102&22=113&23=120&25=124&26=127&27=132&28=136&30=142&31=147&32=159&33=164&34=176'
