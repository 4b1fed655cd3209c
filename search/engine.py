"""The engine: one study run from data to finished trials, with nothing printed.

``prepare`` loads the data once per process, sets the budget and opens the stored study;
``run`` drives Optuna until the study holds its target of finished trials (COMPLETE + PRUNED).
Everything a rerun needs lives in storage, so resuming is calling both again.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.budget import Budget, check_feasible, enforce, make_budget
from search.errors import StorageError, TiaocanError, UsageError
from search.pruners import PrunerSettings, make_pruner
from search.seeding import sampler_seed
from search.spec import Data, Study, StudySpec
from search.storage import mask_url, open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
MAX_CONSECUTIVE_FAILURES = 3


class Observer(Protocol):
    """What the engine tells a UI; ``search.progress.StudyView`` is the real one."""

    def start(self, study: optuna.Study) -> None: ...
    def trial_started(self, number: int, params: Mapping[str, object]) -> None: ...
    def trial_reported(
        self, number: int, step: int, value: float, fraction: float, epoch: int
    ) -> None: ...
    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None: ...
    def stop(self) -> None: ...


class SilentObserver:
    def start(self, study: optuna.Study) -> None:
        pass

    def trial_started(self, number: int, params: Mapping[str, object]) -> None:
        pass

    def trial_reported(
        self, number: int, step: int, value: float, fraction: float, epoch: int
    ) -> None:
        pass

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class Prepared:
    """A study ready to run: spec with overrides, data, budget and the pruner's step scale."""

    study: Study
    spec: StudySpec
    data: Data
    budget: Budget
    steps: Mapping[str, int]
    pruner_settings: PrunerSettings


def prepare(study: Study, spec: StudySpec, data_path: str | None) -> Prepared:
    """Load the data (once per process), set the budget and check that any model fits it."""
    data = study.load_data(data_path)
    budget = make_budget(spec.name, getattr(data, "n_samples", None), spec.param_ratio)
    smallest = study.count_params(study.smallest_config(data, spec, budget.n_params_max), data)
    hint = getattr(study.module, "INFEASIBLE_HINT", "")
    check_feasible(budget, smallest, hint=hint)
    steps = study.pruner_steps(data, spec)
    settings = _pruner_settings(steps, spec)
    make_pruner(spec.pruner, settings)  # an unknown name fails here, before storage is touched
    return Prepared(study, spec, data, budget, steps, settings)


def count_finished(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def open_study(prepared: Prepared, storage_url: str, study_name: str) -> optuna.Study:
    """Create the stored study, or load it and check that it is the same experiment.

    Only the worker that creates the study stamps it and enqueues the baseline, so two
    workers starting together do not both add one.
    """
    storage = open_storage(storage_url)
    spec = prepared.spec
    try:
        study = optuna.create_study(
            study_name=study_name, storage=storage, direction=spec.direction
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=study_name, storage=storage)
        _check_matches(study, prepared, storage_url)
    else:
        for key, value in _identity(prepared).items():
            study.set_user_attr(key, value)
        study.set_user_attr("metric", spec.metric)
        study.set_user_attr("param_budget", prepared.budget.n_params_max)
        study.set_user_attr("machine", f"{platform.node()} ({platform.machine()})")
        baseline = prepared.study.baseline_params(prepared.data)
        study.enqueue_trial(baseline, user_attrs={"baseline": True})  # the simplest model first
    study.set_user_attr("target_trials", spec.n_trials)
    return study


# What makes two runs the same experiment, with the flag that sets each.
_IDENTITY_FLAGS = {
    "tiaocan_study": "STUDY",
    "data_source": "--data",
    "n_samples": "--data",
    "n_epochs": "--epochs",
    "param_ratio": "--param-ratio",
    "seed": "--seed",
}


def _identity(prepared: Prepared) -> dict[str, Any]:
    data, spec = prepared.data, prepared.spec
    return {
        "tiaocan_study": spec.name,
        "direction": spec.direction,
        "data_source": str(data.summary().get("source", "")),
        "n_samples": prepared.budget.n_samples,
        "n_epochs": spec.n_epochs,
        "param_ratio": spec.param_ratio,
        "seed": spec.seed,
    }


def _check_matches(study: optuna.Study, prepared: Prepared, storage_url: str) -> None:
    where = f"study {study.study_name!r} in {mask_url(storage_url)}"
    stored = study.direction.name.lower()
    if stored != prepared.spec.direction:
        raise StorageError(
            f"{where} is stored as {stored}, but study {prepared.spec.name!r} is to "
            f"{prepared.spec.direction}; pass another --study-name"
        )
    attrs = study.user_attrs
    for key, value in _identity(prepared).items():
        if key in attrs and attrs[key] != value and key in _IDENTITY_FLAGS:
            if key == "tiaocan_study":
                raise StorageError(
                    f"{where} was made by study {attrs[key]!r}, not {value!r}; "
                    "pass another --study-name or run the study that made it"
                )
            raise StorageError(
                f"{where} was run with {key} {attrs[key]!r}, not {value!r} "
                f"({_IDENTITY_FLAGS[key]}); rerun with the same {_IDENTITY_FLAGS[key]} "
                "or pass another --study-name"
            )


@dataclass
class RunResult:
    study: optuna.Study
    n_target: int
    n_finished_before: int
    n_finished: int = 0
    stopped_by_timeout: bool = False

    @property
    def was_already_done(self) -> bool:
        return self.n_finished_before >= self.n_target


@dataclass
class _FailureGuard:
    """Stops a study whose trials keep failing, instead of failing them forever."""

    n_consecutive: int = 0
    last_reason: str = ""
    tripped: bool = field(default=False)

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL:
            self.n_consecutive = 0
            return
        self.n_consecutive += 1
        self.last_reason = str(trial.user_attrs.get("fail_reason", "no reason recorded"))
        if self.n_consecutive >= MAX_CONSECUTIVE_FAILURES:
            self.tripped = True
            study.stop()


def make_objective(
    prepared: Prepared, observer: Observer, clock: Callable[[], float] = time.perf_counter
) -> Callable[[optuna.Trial], float]:
    """The Optuna objective: suggest, check the budget, train with the fixed seed, report."""
    study, spec, data, budget = prepared.study, prepared.spec, prepared.data, prepared.budget
    max_steps = prepared.steps["max_steps"]
    steps_per_epoch = prepared.steps["steps_per_epoch"]

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("seed", spec.seed)
        last_step = 0

        def report(step: int, value: float) -> None:
            nonlocal last_step
            last_step = max(last_step, step)
            trial.report(value, step)
            epoch = step // steps_per_epoch  # epochs completed at this report
            observer.trial_reported(trial.number, step, value, min(step / max_steps, 1.0), epoch)
            if trial.should_prune():
                reason = trial.study._storage.get_trial(trial._trial_id).user_attrs.get(
                    "prune_reason", f"pruned at step {step:,}"
                )
                raise optuna.TrialPruned(reason)

        started = clock()
        try:
            config = study.suggest(trial, data, spec, budget.n_params_max)
            enforce(trial, study.count_params(config, data), budget)
            observer.trial_started(trial.number, trial.params)
            result = study.evaluate(config, data, report, spec.seed)
            if isinstance(result, tuple):  # (value, extra user attrs), e.g. a test score
                value, extras = result
                for key, extra in extras.items():
                    trial.set_user_attr(key, extra)
                return float(value)
            return float(result)
        except optuna.TrialPruned:
            raise
        except Exception as error:  # Optuna 5 keeps no failure reason on the trial: keep one
            trial.set_user_attr("fail_reason", f"{type(error).__name__}: {error}")
            raise
        finally:
            trial.set_user_attr("train_seconds", round(clock() - started, 3))
            trial.set_user_attr("n_examples", last_step)

    return objective


def make_sampler(
    spec: StudySpec, n_trials_in_study: int, worker: int
) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(
        seed=sampler_seed(spec.seed, n_trials_in_study, worker),
        n_startup_trials=spec.n_startup_trials,
    )


def run(
    prepared: Prepared,
    study: optuna.Study,
    *,
    observer: Observer | None = None,
    worker: int = 0,
    clock: Callable[[], float] = time.monotonic,
) -> RunResult:
    """Run trials until the stored study has ``spec.n_trials`` finished ones, or time is up."""
    spec = prepared.spec
    observer = observer or SilentObserver()
    result = RunResult(study, spec.n_trials, count_finished(study))
    if result.was_already_done:
        result.n_finished = result.n_finished_before
        return result
    warm_up = getattr(prepared.study.module, "warm_up", None)
    if callable(warm_up):  # optional: e.g. import TF now, not inside the first trial's timer
        warm_up(prepared.data)
    study.sampler = make_sampler(spec, len(study.get_trials(deepcopy=False)), worker)
    study.pruner = make_pruner(spec.pruner, prepared.pruner_settings)
    objective = make_objective(prepared, observer)
    guard = _FailureGuard()
    stop_at = None if spec.timeout is None else clock() + spec.timeout
    observer.start(study)
    try:
        while (remaining := spec.n_trials - count_finished(study)) > 0:
            timeout = None if stop_at is None else stop_at - clock()
            if timeout is not None and timeout <= 0:
                result.stopped_by_timeout = True
                break
            study.optimize(
                objective,
                n_trials=remaining,
                timeout=timeout,
                catch=(Exception,),
                callbacks=[
                    optuna.study.MaxTrialsCallback(spec.n_trials, states=FINISHED),
                    guard,
                    observer,
                ],
            )
            if guard.tripped:
                raise TiaocanError(
                    f"{MAX_CONSECUTIVE_FAILURES} trials in a row failed; last: {guard.last_reason}"
                )
    finally:
        observer.stop()
    result.n_finished = count_finished(study)
    return result


def _pruner_settings(steps: Mapping[str, int], spec: StudySpec) -> PrunerSettings:
    try:
        return PrunerSettings(
            n_warmup_steps=steps["n_warmup_steps"],
            n_startup_trials=spec.n_startup_trials,
            window_steps=steps["window_steps"],
            max_steps=steps["max_steps"],
            interval_steps=steps["interval_steps"],
        )
    except ValueError as error:
        raise UsageError(str(error)) from error
