"""Charts as SVG, drawn on the server with pygal; labels from ``conduct.codes``, in the
page's language.

A chart never shows a suppressed cell as zero: it has no bar, and the caption says how many
cells are hidden. The SVG carries no script (pygal's tooltip configuration is taken out) and
is served by our own route, so the page loads nothing from another origin.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import pygal
from flask_babel import gettext
from pygal.style import Style

from conduct import codes
from conduct.core.i18n import N_, code_label, country

# pygal puts an import hook for its map plugins on sys.meta_path; it has no find_spec, so
# every later import warns. No plugin is used here: take it off.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

LABELS = {
    "category": codes.CATEGORY,
    "allegation_type": codes.ALLEGATION_TYPE,
    "personnel_category": codes.PERSONNEL_CATEGORY,
    "status": codes.STATUS,
    "source": codes.SOURCE,
    "sex": codes.SEX,
    "age_group": codes.AGE_GROUP,
    "finding": codes.FINDING,
    "action": codes.ACTION,
}
DIMENSION_TITLES = {
    "mission": N_("Mission"),
    "year": N_("Year"),
    "quarter": N_("Quarter"),
    "category": N_("Category"),
    "allegation_type": N_("Allegation type"),
    "personnel_category": N_("Personnel category"),
    "status": N_("Status"),
    "source": N_("Source"),
    "sex": N_("Sex"),
    "age_group": N_("Age group"),
    "nationality": N_("Nationality"),
    "finding": N_("Finding"),
    "action": N_("Action"),
}
MEASURE_TITLES = {
    "median_days_to_referral": N_("Median days to referral"),
    "p90_days_to_referral": N_("90th percentile, days to referral"),
    "median_days_to_finding": N_("Median days to finding"),
    "p90_days_to_finding": N_("90th percentile, days to finding"),
    "share_overdue": N_("Share overdue"),
}
_STYLE = Style(
    background="white",
    plot_background="white",
    font_family="sans-serif",
    colors=("#1f5f8b", "#d9822b", "#3f8f4f", "#8b3f5f", "#6b6b6b", "#b8a03a", "#3a8fb8"),
)
_SCRIPT = re.compile(rb"<script\b.*?</script>", re.DOTALL)


def label(dimension: str, value: Any) -> str:
    """A value as people read it: the code list's label, "Not recorded" for None."""
    if value is None:
        return gettext("Not recorded")
    if dimension == "quarter":
        return gettext("Q%(quarter)s", quarter=value)
    if dimension == "nationality":
        return country(value)
    names = LABELS.get(dimension)
    return code_label(value, names) if names is not None else str(value)


def _series(answer: dict, measure: str) -> tuple[list[str], dict[str, list]]:
    """x labels (first dimension) and one series per value of the second dimension."""
    by = answer["by"]
    first = by[0]
    x_values: list = []
    series: dict[str, dict] = {}
    for row in answer["rows"]:
        if row[first] not in x_values:
            x_values.append(row[first])
        name = label(by[1], row[by[1]]) if len(by) > 1 else gettext("Count")
        if measure != "count":
            name = gettext(MEASURE_TITLES[measure]) if len(by) == 1 else name
        series.setdefault(name, {})[row[first]] = row.get(measure)
    labels = [label(first, value) for value in x_values]
    return labels, {name: [cells.get(v) for v in x_values] for name, cells in series.items()}


def bar_chart(answer: dict, title: str, measure: str = "count") -> bytes:
    """The answer as a bar chart (grouped by the second dimension, if any), as SVG bytes."""
    labels, series = _series(answer, measure)
    chart = pygal.Bar(
        js=[],
        style=_STYLE,
        width=900,
        height=420,
        x_label_rotation=30 if len(labels) > 6 else 0,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        truncate_legend=30,
        truncate_label=24,
        print_values=False,
        title=title,
        no_data_text=gettext("No published values"),
    )
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return _SCRIPT.sub(b"", chart.render())
