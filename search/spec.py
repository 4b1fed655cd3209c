"""What a study file declares, and how the engine finds one by name.

A study is a module ``studies.<name>`` with a frozen ``SPEC`` and four functions; the engine
imports it at run time so that search/ never names a study (DESIGN: direction of imports).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import math
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Protocol

from search.errors import StudySpecError, UsageError

STUDIES_PACKAGE = "studies"
DIRECTIONS = ("maximize", "minimize")


@dataclass(frozen=True)
class StudySpec:
    """The fixed facts of a study. CLI flags override fields with ``dataclasses.replace``."""

    name: str
    summary: str
    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"
    n_trials: int = 20
    param_ratio: float = 0.5
    n_startup_trials: int = 5
    n_epochs: int | None = None  # for studies that train in epochs
    pruner: str = "growth"
    seed: int = 42
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, but got {self.direction!r}")
        if self.n_trials < 1:
            raise ValueError(f"--trials must be >= 1, but got {self.n_trials}")
        if not (self.param_ratio > 0 and math.isfinite(self.param_ratio)):  # refuses NaN too
            raise ValueError(
                f"--param-ratio must be a finite number > 0, but got {self.param_ratio}"
            )
        if not 0 <= self.seed < 2**32:  # what keras.utils.set_random_seed accepts
            raise ValueError(f"--seed must be in [0, 2**32), but got {self.seed}")
        if self.n_startup_trials < 0:
            raise ValueError(f"n_startup_trials must be >= 0, but got {self.n_startup_trials}")
        if self.n_epochs is not None and self.n_epochs < 1:
            raise ValueError(f"--epochs must be >= 1, but got {self.n_epochs}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"--timeout must be > 0 seconds, but got {self.timeout}")

    def replace(self, **changes: Any) -> StudySpec:
        """A copy with ``changes``; a bad value raises ``UsageError`` naming it."""
        try:
            return dataclasses.replace(self, **changes)
        except ValueError as error:
            raise UsageError(str(error)) from error


class Data(Protocol):
    """What the engine needs to know of a study's data: a sample count and a summary."""

    @property
    def n_samples(self) -> int: ...

    def summary(self) -> Mapping[str, object]: ...


Report = Callable[[int, float], None]
"""``report(step, value)``: the objective's only link to the pruner."""


@dataclass(frozen=True)
class Study:
    """A loaded study module, checked for the parts the engine calls."""

    module: ModuleType
    spec: StudySpec
    load_data: Callable[..., Data]
    suggest: Callable[..., Any]
    count_params: Callable[..., int]
    evaluate: Callable[..., float | tuple[float, Mapping[str, object]]]
    baseline_params: Callable[[Data], dict[str, Any]]
    smallest_config: Callable[..., Any]
    pruner_steps: Callable[..., Mapping[str, int]]


_REQUIRED = (
    "load_data",
    "suggest",
    "count_params",
    "evaluate",
    "baseline_params",
    "smallest_config",
    "pruner_steps",
)


def study_names() -> list[str]:
    """The study modules there are, sorted."""
    package = importlib.import_module(STUDIES_PACKAGE)
    return sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    )


def load_study(name: str) -> Study:
    """Import ``studies.<name>``, or a dotted module path such as ``mypackage.my_study``.

    An unknown plain name lists the known ones and suggests the closest.
    """
    if "." in name:
        try:
            module = importlib.import_module(name)
        except ImportError as error:
            raise UsageError(f"cannot import study module {name!r}: {error}") from error
    else:
        names = study_names()
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"unknown study {name!r}; known studies: {', '.join(names)}{hint}")
        module = importlib.import_module(f"{STUDIES_PACKAGE}.{name}")
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, StudySpec):
        raise StudySpecError(
            f"study {name!r} defines no SPEC = StudySpec(...) in {module.__file__}"
        )
    missing = [part for part in _REQUIRED if not callable(getattr(module, part, None))]
    if missing:
        raise StudySpecError(
            f"study {name!r} ({module.__file__}) lacks {', '.join(missing)}; "
            f"a study file defines SPEC and {', '.join(_REQUIRED)}"
        )
    return Study(module, spec, **{part: getattr(module, part) for part in _REQUIRED})
