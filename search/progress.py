"""The terminal view of a running study: a live display on a terminal, plain lines elsewhere.

``StudyView`` is an Optuna callback (``study.optimize(..., callbacks=[view])``) plus two hooks
the engine calls while a trial trains. It reads the study's state from storage after each
trial and keeps only what storage cannot give (the running trial's progress, the clock), so
a resumed or multi-worker study shows the same numbers as the dashboard (DESIGN, convention 2).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TextIO

import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from search.engine import FINISHED  # noqa: E402

SHOWN = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
REFRESH_PER_SECOND = 4
REASON_WIDTH = 48
STATE_STYLES = {"COMPLETE": "green", "PRUNED": "yellow", "FAIL": "red", "RUNNING": "cyan"}


def format_value(value: object) -> str:
    """Params and metrics as people read them: 3 significant digits, thousands separators."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_params(params: Mapping[str, object], names: Sequence[str] = ()) -> str:
    shown = names or list(params)
    return " ".join(f"{name}={format_value(params[name])}" for name in shown if name in params)


def last_report(trial: FrozenTrial) -> tuple[int, float] | None:
    """The trial's latest (step, value), which is where a pruned trial was stopped."""
    if not trial.intermediate_values:
        return None
    step = max(trial.intermediate_values)
    return step, trial.intermediate_values[step]


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    # study.best_trial respects 5.0 constraints (an over-budget trial is never "best").
    try:
        return study.best_trial
    except ValueError:
        return None


@dataclass
class _Running:
    """What storage does not know yet about a trial this process is training."""

    params: Mapping[str, object]
    started_at: float
    fraction: float = 0.0
    epoch: int = 0
    step: int = 0
    value: float | None = None


@dataclass
class _Snapshot:
    """The study as last read from storage."""

    n_finished: int = 0
    recent: list[FrozenTrial] = field(default_factory=list)
    best: FrozenTrial | None = None


class StudyView:
    """Shows a study's progress on ``console``; see the module docstring."""

    def __init__(
        self,
        console: Console,
        *,
        target_trials: int,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        key_params: Sequence[str] = (),
        n_recent: int = 8,
    ) -> None:
        if target_trials < 1:
            raise ValueError(f"target_trials must be >= 1, but got {target_trials}")
        self.console = console
        self.target_trials = target_trials
        # A dumb terminal cannot move the cursor, so a live display would scroll garbage.
        self.live = (console.is_terminal and not console.is_dumb_terminal) if live is None else live
        self.clock = clock
        self.key_params = tuple(key_params)
        self.n_recent = n_recent
        self._lock = threading.RLock()  # the Live refresh thread renders concurrently
        self._running: dict[int, _Running] = {}
        self._snapshot = _Snapshot()
        self._n_finished_at_start = 0
        self._started_at: float | None = None
        self._study_name = ""
        self._metric = "value"
        self._live: Live | None = None
        self._last_epoch_printed: dict[int, int] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, study: optuna.Study) -> None:
        with self._lock:
            self._study_name = study.study_name
            self._metric = str(study.user_attrs.get("metric", "value"))
            self._started_at = self.clock()
            self._snapshot = self._read(study)
            self._n_finished_at_start = self._snapshot.n_finished
        if not self.live:
            self._print(self._start_line())
            return
        self._live = Live(
            console=self.console,
            get_renderable=self.render,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=False,
        )
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()  # draws the final frame, which stays on screen
            self._live = None
        elif self._started_at is not None:
            self._print(self._stop_line())
        self._started_at = None

    def __enter__(self) -> StudyView:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- events -----------------------------------------------------------------------------

    def trial_started(self, number: int, params: Mapping[str, object]) -> None:
        with self._lock:
            self._running[number] = _Running(dict(params), started_at=self.clock())
        self._print(f"trial {number} started: {format_params(params)}")
        self._refresh()

    def trial_reported(
        self, number: int, step: int, value: float, fraction: float, epoch: int
    ) -> None:
        with self._lock:
            running = self._running.setdefault(number, _Running({}, started_at=self.clock()))
            running.step, running.value, running.epoch = step, value, epoch
            running.fraction = min(max(fraction, 0.0), 1.0)
            # Plain logs get one line per completed epoch, not one per report (~4 per epoch).
            is_new_epoch = epoch > 0 and self._last_epoch_printed.get(number) != epoch
            if is_new_epoch:
                self._last_epoch_printed[number] = epoch
        if is_new_epoch:
            self._print(
                f"trial {number} epoch {epoch}: {self._metric} {value:.4f} at step {step:,} "
                f"({running.fraction:.0%} of training)"
            )
        self._refresh()

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        snapshot = self._read(study)  # outside the lock: the refresh thread need not wait on I/O
        with self._lock:
            running = self._running.pop(trial.number, None)
            self._last_epoch_printed.pop(trial.number, None)
            self._snapshot = snapshot
        self._print(self._finished_line(trial, running))
        self._refresh()

    # -- reading storage --------------------------------------------------------------------

    def _read(self, study: optuna.Study) -> _Snapshot:
        trials = study.get_trials(deepcopy=False, states=SHOWN)
        n_finished = sum(1 for t in trials if t.state in FINISHED)
        recent = sorted(trials, key=lambda t: t.number)[-self.n_recent :]
        return _Snapshot(n_finished, recent, best_trial(study))

    # -- plain lines ------------------------------------------------------------------------

    def _print(self, line: str) -> None:
        if self.live:
            return
        # soft_wrap: a pipe is 80 columns to rich, and a log line must not be cut in two.
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.refresh()

    def _counter(self) -> str:
        return f"[{self._snapshot.n_finished}/{self.target_trials}]"

    def _best_text(self) -> str:
        best = self._snapshot.best
        if best is None or best.value is None:
            return "no trial completed yet"
        return f"best {best.value:.4f}, trial {best.number}"

    def _start_line(self) -> str:
        snap = self._snapshot
        verb = "resuming" if snap.n_finished else "starting"
        return (
            f"study {self._study_name}: {verb} with {snap.n_finished}/{self.target_trials} "
            f"trials finished ({self._best_text()})"
        )

    def _stop_line(self) -> str:
        return (
            f"study {self._study_name}: {self._snapshot.n_finished}/{self.target_trials} trials "
            f"finished in {format_seconds(self._elapsed())} ({self._best_text()})"
        )

    def _finished_line(self, trial: FrozenTrial, running: _Running | None) -> str:
        if running is not None:
            seconds: float | None = self.clock() - running.started_at
        else:  # a trial this view never saw start: storage's own timestamps
            seconds = trial.duration.total_seconds() if trial.duration else None
        took = f" in {format_seconds(seconds)}" if seconds is not None else ""
        state = trial.state.name
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            value = f"value {trial.value:.4f} ({self._best_text()})"
            return f"trial {trial.number} COMPLETE {value}{took}  {self._counter()}"
        if trial.state == TrialState.PRUNED:
            where = last_report(trial)
            at = f" at step {where[0]:,} (value {where[1]:.4g})" if where else ""
            reason = trial.user_attrs.get("prune_reason", "no reason recorded")
            return f"trial {trial.number} PRUNED{at}: {reason}{took}  {self._counter()}"
        reason = trial.user_attrs.get("fail_reason")
        why = f": {reason}" if reason else ""
        return f"trial {trial.number} {state}{took}{why}  {self._counter()}"

    # -- live frame -------------------------------------------------------------------------

    def _elapsed(self) -> float:
        return 0.0 if self._started_at is None else max(self.clock() - self._started_at, 0.0)

    def _eta(self) -> float | None:
        """Time left from this session's pace; a running trial counts by its fraction done."""
        running_done = sum(r.fraction for r in self._running.values())
        n_done = self._snapshot.n_finished - self._n_finished_at_start + running_done
        n_left = max(self.target_trials - self._snapshot.n_finished - running_done, 0.0)
        if n_done <= 0:
            return None
        return self._elapsed() / n_done * n_left

    def render(self) -> RenderableType:
        """One frame of the live display (also handy to print once in a test or a report)."""
        with self._lock:
            return Group(self._render_header(), *self._render_running(), self._render_table())

    def _render_header(self) -> Table:
        eta = self._eta()
        grid = Table.grid(padding=(0, 1))
        grid.add_row(
            Text(f"study {self._study_name}", style="bold"),
            ProgressBar(total=self.target_trials, completed=self._snapshot.n_finished, width=30),
            Text(f"{self._snapshot.n_finished}/{self.target_trials} trials"),
            Text(f"elapsed {format_seconds(self._elapsed())}"),
            Text(f"ETA {format_seconds(eta) if eta is not None else '?'}"),
            Text(self._best_text(), style="bold green"),
        )
        return grid

    def _render_running(self) -> list[Table]:
        rows = []
        for number, running in sorted(self._running.items()):
            grid = Table.grid(padding=(0, 1))
            value = "-" if running.value is None else f"{running.value:.4f}"
            grid.add_row(
                Text(f"trial {number}", style="cyan"),
                ProgressBar(total=1.0, completed=running.fraction, width=20),
                Text(
                    f"{running.fraction:4.0%}  epochs done {running.epoch}  step {running.step:,}"
                ),
                Text(f"{self._metric} {value}"),
                Text(format_params(running.params, self.key_params), style="dim"),
            )
            rows.append(grid)
        return rows

    def _render_table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
        # Short columns keep their width; a narrow terminal squeezes params and the reason.
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("state", no_wrap=True, min_width=8)
        table.add_column(self._metric, justify="right", no_wrap=True, min_width=8)
        for name in self.key_params or ("params",):
            table.add_column(name, overflow="ellipsis", no_wrap=True, max_width=40)
        table.add_column("n_params", justify="right", no_wrap=True, min_width=8)
        table.add_column("prune reason", overflow="ellipsis", no_wrap=True, max_width=REASON_WIDTH)
        best = self._snapshot.best
        for trial in self._snapshot.recent:
            is_best = best is not None and trial.number == best.number
            table.add_row(*self._row(trial, is_best), style="bold green" if is_best else None)
        return table

    def _row(self, trial: FrozenTrial, is_best: bool) -> list[str | Text]:
        state = trial.state.name
        if trial.state == TrialState.PRUNED and (where := last_report(trial)) is not None:
            value = f"({where[1]:.4f})"  # its last report (Optuna's value for it), not a final one
        elif trial.state == TrialState.COMPLETE and trial.value is not None:
            value = f"{trial.value:.4f}"
        else:
            value = "-"
        if self.key_params:
            params = [format_value(trial.params.get(name, "-")) for name in self.key_params]
        else:
            params = [format_params(trial.params)]
        return [
            f"{'*' if is_best else ''}{trial.number}",
            Text(state, style=STATE_STYLES.get(state, "")),
            value,
            *params,
            format_value(trial.user_attrs.get("n_params", "-")),
            str(trial.user_attrs.get("prune_reason", "")),
        ]


# -- quieting libraries -----------------------------------------------------------------------


class _ConsoleLogHandler(logging.Handler):
    """Routes log records through the console, which prints them above a live display."""

    def __init__(self, console: Console) -> None:
        super().__init__(level=logging.WARNING)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.levelname.lower()}: {record.getMessage()}"
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def _show_once(console: Console | None) -> Callable[..., None]:
    seen: set[tuple[type[Warning], str]] = set()

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        key = (category, str(message))
        if key in seen:
            return
        seen.add(key)
        text = f"warning: {category.__name__}: {message}"
        if console is not None:
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:  # looked up now, so a live display's redirection of stderr applies
            import sys

            print(text, file=sys.stderr)

    return show


@contextlib.contextmanager
def quiet_libraries(console: Console | None = None) -> Iterator[None]:
    """Optuna's INFO lines ("Trial 3 finished with value ...") would scroll a live display away.

    Inside the block Optuna logs only warnings and errors (through ``console`` when given),
    and each distinct Python warning is shown once; everything is restored on exit.
    """
    verbosity = optuna.logging.get_verbosity()
    handler = _ConsoleLogHandler(console) if console is not None else None
    # --debug asked for Optuna's DEBUG lines: keep them, the live view is secondary then.
    is_debug = verbosity <= optuna.logging.DEBUG
    optuna.logging.set_verbosity(verbosity if is_debug else optuna.logging.WARNING)
    if handler is not None:
        # Optuna's own handler holds the stderr of import time and would tear the live frame.
        optuna.logging.disable_default_handler()
        logging.getLogger("optuna").addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_once(console)
            yield
    finally:
        if handler is not None:
            logging.getLogger("optuna").removeHandler(handler)
            optuna.logging.enable_default_handler()
        optuna.logging.set_verbosity(verbosity)


# -- the final summary ------------------------------------------------------------------------


def count_states(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def render_best(study: optuna.Study, console: Console, *, n_reasons: int = 5) -> None:
    """The table printed when a run ends: the best trial, the counts, why trials were pruned."""
    counts = count_states(study)
    total = sum(counts.values())
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    console.print(f"study {study.study_name}: {total} trials ({summary or 'none'})", markup=False)
    best = best_trial(study)
    if best is None:
        console.print("no trial has completed yet, so there is no best trial", markup=False)
    else:
        metric = str(study.user_attrs.get("metric", "value"))
        table = Table(title=f"best trial {best.number}", show_header=False, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("value")
        table.add_row(metric, f"{best.value:.4f}" if best.value is not None else "-")
        for name, value in best.params.items():
            table.add_row(name, format_value(value))
        for name in (
            "test_f1",
            "n_params",
            "param_budget",
            "batch_size",
            "hidden",
            "n_words",
            "shape_reduced_to",
            "seed",
            "train_seconds",
        ):
            if name in best.user_attrs:
                table.add_row(name, format_value(best.user_attrs[name]))
        console.print(table)
    pruned = [t for t in study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))]
    for trial in pruned[-n_reasons:]:
        reason = trial.user_attrs.get("prune_reason", "no reason recorded")
        console.print(f"trial {trial.number} pruned: {reason}", markup=False, soft_wrap=True)
    if len(pruned) > n_reasons:
        console.print(f"... and {len(pruned) - n_reasons} more pruned trials", markup=False)
