"""A static report of a study: one self-contained HTML page plus a PNG per figure.

``python -m search.report STUDY [--storage URL] [--out DIR]`` writes ``DIR/index.html``.

Each figure is described once as plain data (``Chart``) and drawn twice: with plotly for the
page (plotly.js is inlined once, so the page opens offline) and with matplotlib for the PNGs
(kaleido would need a Chrome, which a CI machine or a server may not have).
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.errors import TiaocanError, UsageError
from search.progress import count_states, format_value, last_report
from search.storage import default_storage_url, mask_url, open_storage

if TYPE_CHECKING:
    from matplotlib.axes import Axes

STATE_COLORS = {"COMPLETE": "#1f77b4", "PRUNED": "#ff7f0e", "FAIL": "#7f7f7f", "RUNNING": "#2ca02c"}
BEST_COLOR = "#d62728"
MAX_REASONS = 10


@dataclass(frozen=True)
class Series:
    name: str
    x: list[float]
    y: list[float]
    color: str
    mode: str = "markers"  # "markers", "lines" or "lines+markers" (plotly's names)
    marker: str = "o"  # matplotlib's symbol; "x" marks where a pruned trial stopped
    show_legend: bool = True
    steps: bool = False  # a staircase, for "best so far"


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    log_x: bool = False
    integer_x: bool = False  # trial numbers are whole: no 0.5 ticks
    bars: dict[str, float] | None = None  # a horizontal bar chart instead of series
    skipped: str | None = None  # why there is nothing to draw, said on the page instead


# -- the figures as data ----------------------------------------------------------------------


def _value_of(trial: FrozenTrial) -> float | None:
    """A complete trial's value, or where a pruned one stood when it was stopped."""
    if trial.state == TrialState.COMPLETE:
        return trial.value
    if trial.state == TrialState.PRUNED and (where := last_report(trial)) is not None:
        return where[1]
    return None


def _scatter_by_state(
    trials: list[FrozenTrial], x_of: Callable[[FrozenTrial], float | None]
) -> list[Series]:
    """Complete trials as dots, pruned ones as crosses at their last report."""
    series = []
    for state, name, marker in (
        (TrialState.COMPLETE, "complete", "o"),
        (TrialState.PRUNED, "pruned (last report)", "x"),
    ):
        points = [
            (x, v)
            for t in trials
            if t.state == state and (x := x_of(t)) is not None and (v := _value_of(t)) is not None
        ]
        if points:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            series.append(Series(name, xs, ys, STATE_COLORS[state.name], marker=marker))
    return series


def history_chart(study: optuna.Study, trials: list[FrozenTrial], metric: str) -> Chart:
    chart = Chart("history", "Optimisation history", "trial", metric, integer_x=True)
    completed = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not completed:
        return _skip(chart, "No trial has completed yet, so there is no history to draw.")
    chart.series.extend(_scatter_by_state(trials, lambda t: float(t.number)))
    pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
    best: list[float] = []
    for value in [t.value for t in completed if t.value is not None]:
        best.append(pick(best[-1], value) if best else value)
    numbers = [float(t.number) for t in completed]
    chart.series.append(Series("best so far", numbers, best, BEST_COLOR, "lines", steps=True))
    return chart


def curves_chart(trials: list[FrozenTrial], metric: str) -> Chart:
    chart = Chart("learning_curves", "Learning curves", "training examples seen", metric)
    shown: set[str] = set()
    for trial in trials:
        if not trial.intermediate_values:
            continue
        steps = sorted(trial.intermediate_values)
        state = trial.state.name
        values = [trial.intermediate_values[s] for s in steps]
        color = STATE_COLORS.get(state, "#000000")
        chart.series.append(
            Series(
                state.lower(),
                list(map(float, steps)),
                values,
                color,
                "lines",
                show_legend=state not in shown,
            )
        )
        shown.add(state)
        if trial.state == TrialState.PRUNED:  # a cross where the pruner cut it short
            chart.series.append(
                Series(
                    "pruned here",
                    [float(steps[-1])],
                    [values[-1]],
                    color,
                    marker="x",
                    show_legend="pruned here" not in shown,
                )
            )
            shown.add("pruned here")
    if not chart.series:
        return _skip(chart, "No trial has reported an intermediate value yet.")
    return chart


def importance_chart(study: optuna.Study, trials: list[FrozenTrial]) -> Chart:
    chart = Chart("importances", "Parameter importances", "importance (PED-ANOVA)", "")
    n_complete = sum(1 for t in trials if t.state == TrialState.COMPLETE)
    if n_complete < 2:
        return _skip(
            chart, f"Importances need at least 2 completed trials; this study has {n_complete}."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # few trials: PED-ANOVA warns, the numbers still say it
            # The default evaluator (PED-ANOVA) needs no scikit-learn, unlike fANOVA.
            importances = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError) as error:
        return _skip(chart, f"Importances could not be computed: {error}")
    if not importances:
        return _skip(chart, "Importances could not be computed: the trials share no parameter.")
    ordered = dict(sorted(importances.items(), key=lambda item: item[1]))
    return dataclasses.replace(chart, bars=ordered)


def _learning_rate(trial: FrozenTrial) -> float | None:
    value = trial.params.get("learning_rate")
    return float(value) if value is not None else None


def learning_rate_chart(trials: list[FrozenTrial], metric: str) -> Chart:
    chart = Chart(
        "learning_rate", "Learning rate vs value", "learning rate (log scale)", metric, log_x=True
    )
    chart.series.extend(_scatter_by_state(trials, _learning_rate))
    if not chart.series:
        return _skip(chart, "No finished trial has a learning_rate parameter.")
    return chart


def _skip(chart: Chart, reason: str) -> Chart:
    return dataclasses.replace(chart, series=[], skipped=reason)


def build_charts(study: optuna.Study) -> list[Chart]:
    trials = study.get_trials(deepcopy=False)
    metric = str(study.user_attrs.get("metric", "value"))
    return [
        history_chart(study, trials, metric),
        curves_chart(trials, metric),
        importance_chart(study, trials),
        learning_rate_chart(trials, metric),
    ]


# -- drawing ----------------------------------------------------------------------------------


def _plotly_figure(chart: Chart) -> Any:
    import plotly.graph_objects as go  # imported here: slow, and only the report needs it

    figure = go.Figure()
    if chart.bars is not None:
        figure.add_bar(x=list(chart.bars.values()), y=list(chart.bars), orientation="h")
    for s in chart.series:
        symbol = "x" if s.marker == "x" else "circle"
        line = {"color": s.color, "shape": "hv" if s.steps else "linear"}
        figure.add_scatter(
            x=s.x,
            y=s.y,
            mode=s.mode,
            name=s.name,
            legendgroup=s.name,
            showlegend=s.show_legend,
            line=line,
            marker={"color": s.color, "symbol": symbol, "size": 8},
        )
    figure.update_layout(
        title=chart.title,
        xaxis_title=chart.x_label,
        yaxis_title=chart.y_label,
        template="plotly_white",
        height=420,
        margin={"t": 60},
    )
    if chart.log_x:
        figure.update_xaxes(type="log")
    if chart.integer_x and chart.series:  # whole ticks, at most ~10 of them
        x_max = max(max(s.x, default=0.0) for s in chart.series)
        figure.update_xaxes(tick0=0, dtick=max(1, math.ceil(x_max / 10)))
    return figure


def _draw_axes(chart: Chart, ax: Axes) -> None:
    if chart.bars is not None:
        ax.barh(list(chart.bars), list(chart.bars.values()), color=STATE_COLORS["COMPLETE"])
    for s in chart.series:
        label = s.name if s.show_legend else "_nolegend_"
        if "lines" in s.mode:
            style = "steps-post" if s.steps else "default"
            ax.plot(s.x, s.y, color=s.color, label=label, linewidth=1.2, drawstyle=style)
        if "markers" in s.mode:
            ax.scatter(s.x, s.y, color=s.color, marker=s.marker, label=label, zorder=3)
    if chart.log_x:
        ax.set_xscale("log")
    ax.set_title(chart.title)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    ax.grid(alpha=0.3)
    if chart.integer_x:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if chart.series:
        ax.legend(loc="best", fontsize="small")


def write_png(chart: Chart, path: Path) -> None:
    # The object API, not pyplot: no global figure state and no GUI backend is touched.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100, layout="tight")
    _draw_axes(chart, figure.subplots())
    figure.savefig(path, format="png")


# -- the page ---------------------------------------------------------------------------------


def _table(rows: Sequence[tuple[object, object]], header: tuple[str, str]) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(format_value(v))}</td></tr>"
        for k, v in rows
    )
    head = f"<tr><th>{html.escape(header[0])}</th><th>{html.escape(header[1])}</th></tr>"
    return f"<table>{head}{cells}</table>"


def _best_section(study: optuna.Study) -> str:
    try:
        best = study.best_trial  # respects 5.0 constraints: an over-budget trial is never best
    except ValueError:
        return "<h2>Best trial</h2><p>No trial has completed yet.</p>"
    metric = str(study.user_attrs.get("metric", "value"))
    rows: list[tuple[object, object]] = [(metric, best.value)]
    return (
        f"<h2>Best trial: {best.number}</h2>"
        f"{_table(rows + list(best.params.items()), ('parameter', 'value'))}"
        f"<h3>User attributes</h3>{_table(sorted(best.user_attrs.items()), ('attribute', 'value'))}"
    )


def _pruned_section(study: optuna.Study) -> str:
    pruned = study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))
    if not pruned:
        return ""
    items = []
    for trial in pruned[:MAX_REASONS]:
        where = last_report(trial)
        at = f" at step {where[0]:,} (value {where[1]:.4g})" if where else ""
        reason = trial.user_attrs.get("prune_reason", "no reason recorded")
        items.append(f"<li>trial {trial.number}{at}: {html.escape(str(reason))}</li>")
    more = f"<p>... and {len(pruned) - MAX_REASONS} more.</p>" if len(pruned) > MAX_REASONS else ""
    return f"<h2>Why trials were pruned</h2><ul>{''.join(items)}</ul>{more}"


def _figure_section(chart: Chart, include_plotlyjs: bool) -> str:
    head = f"<h2>{html.escape(chart.title)}</h2>"
    if chart.skipped is not None:
        return f"{head}<p class='skipped'>{html.escape(chart.skipped)}</p>"
    div = _plotly_figure(chart).to_html(
        full_html=False, include_plotlyjs=include_plotlyjs, config={"displaylogo": False}
    )
    return f"{head}{div}<p><a href='{chart.slug}.png'>{chart.slug}.png</a></p>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;
text-align:left}.skipped{color:#666;font-style:italic}"""


def render_page(study: optuna.Study, charts: list[Chart]) -> str:
    counts = count_states(study)
    sections, needs_js = [], True
    for chart in charts:
        sections.append(_figure_section(chart, include_plotlyjs=needs_js))
        needs_js = needs_js and chart.skipped is not None  # plotly.js goes in once, inline
    name = html.escape(study.study_name)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{name}</title>"
        f"<style>{STYLE}</style></head><body><h1>Study {name}</h1>"
        f"{_table(sorted(study.user_attrs.items()), ('study attribute', 'value'))}"
        f"<h2>Trials by state</h2>{_table(sorted(counts.items()), ('state', 'trials'))}"
        f"{_best_section(study)}{''.join(sections)}{_pruned_section(study)}</body></html>"
    )


def write_report(study: optuna.Study, out_dir: Path) -> Path:
    """Write ``index.html`` and one PNG per drawable figure into ``out_dir``; return the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = build_charts(study)
    for chart in charts:
        if chart.skipped is None:
            write_png(chart, out_dir / f"{chart.slug}.png")
    index = out_dir / "index.html"
    index.write_text(render_page(study, charts), encoding="utf-8")
    return index


# -- the command ------------------------------------------------------------------------------


def load_named_study(name: str, storage_url: str) -> optuna.Study:
    """Load ``name``; an unknown name fails with the names the storage does hold."""
    storage = open_storage(storage_url, must_exist=True)
    names = sorted(s.study_name for s in storage.get_all_studies())
    if name not in names:
        held = f"studies there: {', '.join(names)}" if names else "it holds no studies"
        raise UsageError(f"no study named {name!r} in {mask_url(storage_url)}; {held}")
    return optuna.load_study(study_name=name, storage=storage)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m search.report",
        description="Write a static HTML report (and PNG figures) of one study.",
    )
    default = default_storage_url()
    parser.add_argument("study", help="the study's name (see the dashboard or the error list)")
    parser.add_argument(
        "--storage",
        default=default,
        help=f"database URL (default: $TIAOCAN_STORAGE or {mask_url(default)})",
    )
    parser.add_argument("--out", type=Path, help="output folder (default: reports/<study>)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        study = load_named_study(args.study, args.storage)
        out = args.out or Path("reports") / args.study.replace("/", "_")
        index = write_report(study, out)
    except TiaocanError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    n_png = len(list(index.parent.glob("*.png")))
    print(f"wrote {index} ({n_png} PNG figures beside it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
