"""A study whose every trial raises: the engine must stop, not loop forever."""

from __future__ import annotations

from typing import Any

from search.spec import Report
from tests.fake_studies.quadratic import SPEC as _SPEC
from tests.fake_studies.quadratic import FakeData
from tests.fake_studies.quadratic import baseline_params as baseline_params
from tests.fake_studies.quadratic import count_params as count_params
from tests.fake_studies.quadratic import load_data as load_data
from tests.fake_studies.quadratic import pruner_steps as pruner_steps
from tests.fake_studies.quadratic import smallest_config as smallest_config
from tests.fake_studies.quadratic import suggest as suggest

SPEC = _SPEC.replace(name="always_failing", summary="fake: every trial raises")


def evaluate(config: dict[str, Any], data: FakeData, report: Report, seed: int) -> float:
    raise RuntimeError("this objective always fails")
