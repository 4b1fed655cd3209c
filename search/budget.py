"""The parameter budget: no model larger than its data can teach.

``n_trainable_params <= param_ratio * n_samples``. Studies make proposals fit by construction
(see ``search.space.suggest_width``); this module is the backstop that records the budget on
every trial and prunes an over-budget one before anything is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import optuna

from search.errors import InfeasibleStudyError, StudySpecError

CONSTRAINT = "param_budget"


@dataclass(frozen=True)
class Budget:
    n_samples: int
    param_ratio: float

    def __post_init__(self) -> None:
        if not self.param_ratio > 0 or math.isinf(self.param_ratio):
            raise ValueError(f"--param-ratio must be a positive number, but got {self.param_ratio}")

    @property
    def n_params_max(self) -> int:
        return math.floor(self.param_ratio * self.n_samples)

    def describe(self) -> str:
        return (
            f"{self.n_params_max:,} trainable parameters "
            f"({self.param_ratio:g} x {self.n_samples:,} training samples)"
        )


def make_budget(study_name: str, n_samples: object, param_ratio: float) -> Budget:
    """A budget from the sample count a study's data declares (a missing count: the study's bug)."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise StudySpecError(
            f"study {study_name!r} declares no usable sample count: its data's n_samples must be "
            f"a positive int (the number of training samples), but got {n_samples!r}"
        )
    return Budget(n_samples, param_ratio)


def check_feasible(budget: Budget, smallest_n_params: int, *, hint: str = "") -> None:
    """Stop before the first trial when even the smallest model does not fit."""
    if smallest_n_params > budget.n_params_max:
        raise InfeasibleStudyError(
            f"no model fits the parameter budget: {budget.n_samples:,} training samples x "
            f"{budget.param_ratio:g} = {budget.n_params_max:,} parameters, but the smallest "
            f"model has {smallest_n_params:,}; use more training data, a larger --param-ratio "
            f"(at least {smallest_n_params / budget.n_samples:.3g}){hint}"
        )


def enforce(trial: optuna.Trial, n_params: int, budget: Budget) -> None:
    """Record the budget on the trial; prune it at once when the model would not fit.

    The dashboard does not show Optuna 5 constraints, so they are mirrored into user attrs.
    """
    trial.set_user_attr("n_params", n_params)
    trial.set_user_attr("param_budget", budget.n_params_max)
    trial.set_constraint(CONSTRAINT, float(n_params - budget.n_params_max))
    if n_params > budget.n_params_max:
        over = n_params - budget.n_params_max
        reason = (
            f"budget: {n_params:,} parameters is {over:,} over the budget of "
            f"{budget.n_params_max:,} ({n_params / budget.n_params_max:.2f}x); never built"
        )
        trial.set_user_attr("prune_reason", reason)
        raise optuna.TrialPruned(reason)
