"""A self-contained HTML report: the plan, and an inline SVG chart of monthly cost against users.

No external files, fonts or scripts: the chart is drawn here as SVG; a few lines of inline script
only measure what the browser drew (so a headless browser can check the chart rendered).
"""

from __future__ import annotations

import math
from html import escape

from hashigo.ops.plan.costing import Line, signed_usd, usd
from hashigo.ops.plan.demand import fmt
from hashigo.ops.plan.engine import PhaseResult
from hashigo.ops.plan.migration import Migration
from hashigo.ops.plan.render_table import COMPONENT_TITLES
from hashigo.ops.plan.report import Report
from hashigo.ops.plan.sweep import Series, Sweep

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
WIDTH, HEIGHT = 900, 440
LEFT, RIGHT, TOP, BOTTOM = 72, 230, 24, 54

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;color:#222;
line-height:1.45;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.2rem;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
.unconfirmed{color:#a15c00;font-weight:600}.warn{color:#a15c00}code,pre{background:#f6f6f6}
pre{padding:.5rem;overflow:auto}figure{margin:0}svg text{font-size:12px;fill:#333}
.grid{stroke:#e2e2e2}.axis{stroke:#555}.phase-line{stroke:#999;stroke-dasharray:4 4}
"""

MEASURE = """
(function () {
  var figure = document.getElementById('cost-chart');
  var drawn = 0;
  figure.querySelectorAll('path.series-line').forEach(function (path) {
    var length = path.getTotalLength();
    path.setAttribute('data-rendered-length', length.toFixed(1));
    if (length > 0) { drawn += 1; }
  });
  figure.setAttribute('data-series-rendered', String(drawn));
})();
"""


def to_html(report: Report) -> str:
    plan = report.plan
    title = f"Hosting plan: {plan.requirements.app}"
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p>Region <b>{escape(plan.requirements.region)}</b>; requirements: "
             f"{escape(plan.requirements_source)}. USD per month. Every figure is quantity × unit price from the "
             "hashigo price catalog, with its source and the date it was read.</p>"]
    parts += [f'<p class="warn">note: {escape(n)}</p>' for n in report.notes]
    parts.append(_phase_table(report))
    if report.sweep is not None:
        parts.append("<h2>Monthly cost by users</h2>")
        parts.append(chart(report.sweep, _phase_marks(report)))
        sentences = report.crossover_sentences()
        parts.append('<ul id="crossovers">' + "".join(f'<li class="crossover-text">{escape(s)}</li>'
                                                      for s in sentences) + "</ul>"
                     if sentences else "<p id=\"crossovers\">No crossover in this range: the order of the stacks "
                     "does not change.</p>")
    parts += [_phase_details(phase) for phase in plan.phases]
    parts += [_migration_html(m) for m in plan.migrations]
    if report.reference is not None:
        parts.append(_reference_html(report))
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            + "\n".join(parts) + f"<script>{MEASURE}</script></body></html>\n")


def _phase_table(report: Report) -> str:
    components = report.used_components()
    head = "".join(f"<th>{escape(h)}</th>" for h in ["phase", "users", "stack",
                                                      *[COMPONENT_TITLES[c] for c in components], "total"])
    rows = []
    for phase in report.plan.phases:
        users = f"≤ {fmt(phase.mau)} MAU"
        if phase.chosen is None:
            rows.append(f"<tr><td>{escape(phase.spec.name)}</td><td>{users}</td><td colspan=\"{len(components) + 2}\">"
                        "no stack fits</td></tr>")
            continue
        cells = "".join(f'<td class="num">{usd(phase.chosen.component_cost(c)) if c in phase.chosen.choices else "—"}'
                        "</td>" for c in components)
        rows.append(f"<tr><td>{escape(phase.spec.name)}</td><td>{users}</td>"
                    f"<td><code>{escape(phase.chosen.stack.id)}</code></td>{cells}"
                    f'<td class="num"><b>{usd(phase.chosen.monthly)}</b></td></tr>')
    return f'<h2>Phases</h2><table id="phases"><tr>{head}</tr>{"".join(rows)}</table>'


def _phase_marks(report: Report) -> list[tuple[float, str]]:
    return [(p.mau, p.spec.name) for p in report.plan.phases]


def chart(sweep: Sweep, phase_marks: list[tuple[float, str]]) -> str:
    values = [p.monthly for s in sweep.series for p in s.points if p.monthly is not None and p.monthly > 0]
    y_low = 10 ** math.floor(math.log10(min(values))) if values else 1.0
    y_high = 10 ** math.ceil(math.log10(max(values))) if values else 10.0
    y_low = max(min(y_low, y_high / 10), 0.01)
    x_low, x_high = sweep.low, max(sweep.high, sweep.low * 1.0001)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(mau: float) -> float:
        return LEFT + (math.log10(mau) - math.log10(x_low)) / (math.log10(x_high) - math.log10(x_low)) * plot_w

    def y(cost: float) -> float:
        clamped = min(max(cost, y_low), y_high)
        return TOP + plot_h - (math.log10(clamped) - math.log10(y_low)) / (math.log10(y_high) - math.log10(y_low)) \
            * plot_h

    out = [f'<figure id="cost-chart" data-series="{len(sweep.series)}">',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="monthly cost against monthly active users">',
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    out += _grid(x, y, x_low, x_high, y_low, y_high)
    for mau, name in phase_marks:
        if x_low <= mau <= x_high:
            anchor = "end" if x(mau) > LEFT + plot_w * 0.85 else "start"
            shift = -3 if anchor == "end" else 3
            out.append(f'<line class="phase-line" x1="{x(mau):.1f}" y1="{TOP}" x2="{x(mau):.1f}" '
                       f'y2="{TOP + plot_h}"/><text x="{x(mau) + shift:.1f}" y="{TOP + 12}" '
                       f'text-anchor="{anchor}">{escape(name)} ends</text>')
    for index, series in enumerate(sweep.series):
        out.append(_series_path(series, PALETTE[index % len(PALETTE)], x, y))
    for crossing in sweep.crossovers:
        if crossing.monthly is not None:
            out.append(f'<circle class="crossover" cx="{x(crossing.mau):.1f}" cy="{y(crossing.monthly):.1f}" r="5" '
                       f'fill="none" stroke="#000" stroke-width="1.5"><title>{escape(crossing.sentence())}</title>'
                       "</circle>")
    out += _legend(sweep.series)
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 12}" text-anchor="middle">monthly active users '
               "(log scale)</text>")
    out.append(f'<text transform="translate(16 {TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
               "USD per month (log scale)</text>")
    out.append("</svg><figcaption>Monthly cost of each compared stack; gaps: the stack does not fit those users. "
               "Circles mark crossovers.</figcaption></figure>")
    return "\n".join(out)


def _grid(x: object, y: object, x_low: float, x_high: float, y_low: float, y_high: float) -> list[str]:
    assert callable(x) and callable(y)
    out = []
    for power in range(math.floor(math.log10(x_low)), math.ceil(math.log10(x_high)) + 1):
        mau = 10.0 ** power
        if x_low <= mau <= x_high:
            out.append(f'<line class="grid" x1="{x(mau):.1f}" y1="{TOP}" x2="{x(mau):.1f}" '
                       f'y2="{HEIGHT - BOTTOM}"/><text x="{x(mau):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                       f'text-anchor="middle">{fmt(mau)}</text>')
    for power in range(round(math.log10(y_low)), round(math.log10(y_high)) + 1):
        cost = 10.0 ** power
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y(cost):.1f}" x2="{WIDTH - RIGHT}" y2="{y(cost):.1f}"/>'
                   f'<text x="{LEFT - 6}" y="{y(cost) + 4:.1f}" text-anchor="end">{_tick(cost)}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}"/>')
    out.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>')
    return out


def _series_path(series: Series, color: str, x: object, y: object) -> str:
    assert callable(x) and callable(y)
    commands, pen_down = [], False
    for point in series.points:
        if point.monthly is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x(point.mau):.1f} {y(point.monthly):.1f}")
        pen_down = True
    fitting = sum(1 for p in series.points if p.monthly is not None)
    return (f'<path class="series-line" data-stack="{escape(series.stack)}" data-points="{fitting}" '
            f'd="{" ".join(commands)}" fill="none" stroke="{color}" stroke-width="3" '
            f'stroke-linejoin="round"><title>{escape(series.name)}</title></path>')


def _legend(series: list[Series]) -> list[str]:
    out = []
    for index, item in enumerate(series):
        top = TOP + 8 + index * 22
        color = PALETTE[index % len(PALETTE)]
        out.append(f'<g class="legend-item" data-stack="{escape(item.stack)}"><rect x="{WIDTH - RIGHT + 16}" '
                   f'y="{top}" width="18" height="6" fill="{color}"/><text x="{WIDTH - RIGHT + 40}" y="{top + 7}">'
                   f"{escape(item.stack)}</text></g>")
    return out


def _tick(cost: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if cost >= size:
            return f"${cost / size:g}{suffix}"
    return f"${cost:g}"


def _cite(line: Line) -> str:
    marks = (' <span class="unconfirmed">unconfirmed</span>' if line.unconfirmed else "") + (
        " <i>override</i>" if line.overridden else "")
    url = escape(line.source.url)
    link = f'<a href="{url}">{url}</a>' if line.source.url.startswith("http") else url
    return f"{link} ({escape(line.source.shown_date())}){marks}"


def _phase_details(phase: PhaseResult) -> str:
    title = escape(phase.spec.title or phase.spec.name)
    if phase.chosen is None:
        reasons = "".join(f"<li>{escape(r)}</li>" for c in phase.refused for r in c.reasons[:1])
        return f"<h3>{title}: no stack fits</h3><ul>{reasons}</ul>"
    rows = "".join(
        f"<tr><td>{escape(line.component)}</td><td>{escape(phase.chosen.choices[line.component].entry.label())}</td>"
        f"<td>{escape(line.item)}</td><td>{escape(line.formula())}</td><td>{_cite(line)}</td></tr>"
        for line in phase.chosen.lines)
    ranking = "".join(f"<li><code>{escape(c.stack.id)}</code>: {usd(c.monthly)}</li>" for c in phase.ranked)
    ranking += "".join(f"<li><code>{escape(c.stack.id)}</code> refused: {escape('; '.join(c.reasons))}</li>"
                       for c in phase.refused)
    warnings = "".join(f'<li class="warn">{escape(w)}</li>' for w in phase.warnings)
    return (f'<h3 class="phase-detail">{title}: {escape(phase.chosen.stack.name)} — '
            f"{usd(phase.chosen.monthly)}/month</h3><p>{escape(phase.why_chosen)}</p>"
            "<table><tr><th>component</th><th>service</th><th>item</th><th>quantity × price = cost</th>"
            f"<th>source</th></tr>{rows}</table><ul>{ranking}</ul>" + (f"<ul>{warnings}</ul>" if warnings else ""))


def _migration_html(migration: Migration) -> str:
    head = (f"<h3>{escape(migration.from_phase)} → {escape(migration.to_phase)}: "
            f"<code>{escape(str(migration.from_stack))}</code> → <code>{escape(str(migration.to_stack))}</code></h3>"
            f"<p>Move when {escape(migration.trigger)}.</p>")
    if not migration.moves:
        return head + "<p>Nothing moves between these phases.</p>"
    items = []
    for step in (s for s in migration.steps if s.action != "stays"):
        code = "\n".join([*step.commands, *(f"export {e}" for e in step.env)])
        items.append(f"<li><b>{escape(step.component)}</b>: {escape(step.detail)}"
                     + (f"<pre>{escape(code)}</pre>" if code else "") + "</li>")
    return head + f'<ol class="migration">{"".join(items)}</ol>'


def _reference_html(report: Report) -> str:
    comparison = report.reference
    assert comparison is not None
    rows = "".join(
        f"<tr><td>{escape(line.component)}</td><td>{escape(', '.join(line.labels) or '—')}</td>"
        f'<td class="num">{usd(line.reference_usd) if line.reference_usd is not None else "—"}</td>'
        f'<td class="num">{usd(line.plan_usd)}</td><td class="num">{signed_usd(line.difference)}</td>'
        f"<td>{'<br>'.join(escape(e) for e in line.explanation)}</td></tr>" for line in comparison.lines)
    return (f"<h2>Compared with {escape(comparison.source)}</h2><p>{escape(comparison.verdict())}</p>"
            "<table><tr><th>component</th><th>reference</th><th>ref</th><th>plan</th><th>difference</th>"
            f"<th>why</th></tr>{rows}</table>")
