"""What a study would do, without training: ``--dry-run``, and the dashboard's study note."""

from __future__ import annotations

import platform
from collections.abc import Mapping

import optuna
from rich.console import Console
from rich.table import Table

from search.engine import Prepared, count_finished
from search.errors import StorageError
from search.spec import Data
from search.storage import mask_url, open_storage, sqlite_path

N_SAMPLED_CONFIGS = 200


def describe_data(data: Data) -> str:
    describe = getattr(data, "describe", None)
    if callable(describe):
        return str(describe())
    summary = data.summary()
    parts = [f"{key}={_short(value)}" for key, value in summary.items()]
    return ", ".join(parts)


def _short(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def describe_distribution(distribution: object) -> str:
    """``log-uniform [0.0001, 0.1]``, ``int [4, 7]``, ``one of 16, 32, 64``."""
    d = distribution
    if isinstance(d, optuna.distributions.CategoricalDistribution):
        return "one of " + ", ".join(str(choice) for choice in d.choices)
    if isinstance(d, optuna.distributions.FloatDistribution | optuna.distributions.IntDistribution):
        kind = "int" if isinstance(d, optuna.distributions.IntDistribution) else "uniform"
        kind = f"log-{kind}" if d.log else kind
        step = f" step {d.step}" if d.step not in (None, 1) else ""
        return f"{kind} [{d.low:g}, {d.high:g}]{step}"
    return repr(d)


def sample_space(
    prepared: Prepared, n: int = N_SAMPLED_CONFIGS
) -> tuple[dict[str, object], list[int]]:
    """The search space's distributions and the n_params of ``n`` random proposals.

    Sampled on an in-memory study, so nothing is written to the real storage.
    """
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=prepared.spec.seed))
    distributions: dict[str, object] = {}
    counts: list[int] = []
    for _ in range(n):
        trial = study.ask()
        config = prepared.study.suggest(
            trial, prepared.data, prepared.spec, prepared.budget.n_params_max
        )
        counts.append(prepared.study.count_params(config, prepared.data))
        distributions.update(trial.distributions)
        study.tell(trial.number, 0.0)
    return distributions, counts


def show(prepared: Prepared, storage_url: str, study_name: str, console: Console) -> None:
    spec = prepared.spec
    console.print(
        f"spec: {spec.name} ({spec.summary}); metric {spec.metric}, {spec.direction}, "
        f"target {spec.n_trials} trials, epochs {spec.n_epochs}, pruner {spec.pruner}, "
        f"seed {spec.seed}, timeout {spec.timeout}"
    )
    distributions, counts = sample_space(prepared)
    table = Table(title="search space")
    table.add_column("param")
    table.add_column("distribution")
    for name, distribution in distributions.items():
        table.add_row(name, describe_distribution(distribution))
    console.print(table)
    budget = prepared.budget.n_params_max
    counts.sort()
    n_over = sum(c > budget for c in counts)
    console.print(
        f"n_params of {len(counts)} random proposals: min {counts[0]:,}, median "
        f"{counts[len(counts) // 2]:,}, max {counts[-1]:,} (budget {budget:,}; {n_over} over)"
    )
    console.print(
        f"baseline (first trial of a new study): {prepared.study.baseline_params(prepared.data)}"
    )
    console.print(f"storage: {mask_url(storage_url)}: {_stored_state(storage_url, study_name)}")


def _stored_state(storage_url: str, study_name: str) -> str:
    path = sqlite_path(storage_url)
    if path is not None and not path.exists():
        return "file does not exist yet; a run creates it"
    try:
        storage = open_storage(storage_url, must_exist=True)
        study = optuna.load_study(study_name=study_name, storage=storage)
    except StorageError as error:
        return f"{error} (a run creates the tables)"
    except KeyError:
        return f"no study {study_name!r} yet; a run creates it"
    return f"study {study_name!r} has {count_finished(study)} finished trials"


def note(prepared: Prepared, study_name: str) -> str:
    """The study note shown in optuna-dashboard (markdown)."""
    spec, budget = prepared.spec, prepared.budget
    rows = "\n".join(
        f"| {key} | {_short(value)} |" for key, value in prepared.data.summary().items()
    )
    return (
        f"# {study_name}\n\n{spec.summary}\n\n"
        f"- metric: **{spec.metric}** ({spec.direction}); target {spec.n_trials} finished trials\n"
        f"- seed {spec.seed} for every trial (deterministic ops); pruner `{spec.pruner}`; "
        f"epochs {spec.n_epochs}\n"
        f"- parameter budget: {budget.describe()}\n"
        f"- machine: {platform.node()} ({platform.machine()}, "
        f"Python {platform.python_version()})\n\n"
        f"| data | |\n| --- | --- |\n{rows}\n"
    )
