"""A study that never trains: maximise -(x - 2)^2 with a fake learning curve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import optuna

from search.spec import Report, StudySpec

SPEC = StudySpec(
    name="quadratic",
    summary="fake: maximise -(x - 2)^2",
    metric="score",
    n_trials=6,
    n_epochs=2,
    n_startup_trials=2,
    pruner="none",
)
KEY_PARAMS = ("x",)
N_SAMPLES = 1000
STEPS_PER_EPOCH = 100


@dataclass(frozen=True)
class FakeData:
    n_samples: int = N_SAMPLES

    def summary(self) -> dict[str, object]:
        return {"n_samples": self.n_samples}


def load_data(path: str | None) -> FakeData:
    return FakeData()


def suggest(
    trial: optuna.Trial, data: FakeData, spec: StudySpec, n_params_max: int
) -> dict[str, Any]:
    return {"x": trial.suggest_float("x", -10.0, 10.0), "epochs": spec.n_epochs or 1}


def count_params(config: dict[str, Any], data: FakeData) -> int:
    return 10


def baseline_params(data: FakeData) -> dict[str, Any]:
    return {"x": 0.0}


def smallest_config(data: FakeData, spec: StudySpec, n_params_max: int) -> dict[str, Any]:
    return {"x": 0.0, "epochs": 1}


def pruner_steps(data: FakeData, spec: StudySpec) -> dict[str, int]:
    n_epochs = spec.n_epochs or 1
    return {
        "steps_per_epoch": STEPS_PER_EPOCH,
        "interval_steps": STEPS_PER_EPOCH // 2,
        "n_warmup_steps": STEPS_PER_EPOCH // 2,
        "window_steps": STEPS_PER_EPOCH // 2,
        "max_steps": n_epochs * STEPS_PER_EPOCH,
    }


def value(x: float) -> float:
    return -((x - 2.0) ** 2)


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    final = value(config["x"])
    n_reports = 2 * config["epochs"]
    for i in range(1, n_reports + 1):
        report(i * STEPS_PER_EPOCH // 2, final - 10.0 * (n_reports - i))
    return final
