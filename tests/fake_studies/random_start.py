"""The quadratic with a long random start-up: a replayed sampler seed would repeat points."""

from __future__ import annotations

from tests.fake_studies.quadratic import SPEC as _SPEC
from tests.fake_studies.quadratic import baseline_params as baseline_params
from tests.fake_studies.quadratic import count_params as count_params
from tests.fake_studies.quadratic import evaluate as evaluate
from tests.fake_studies.quadratic import load_data as load_data
from tests.fake_studies.quadratic import pruner_steps as pruner_steps
from tests.fake_studies.quadratic import smallest_config as smallest_config
from tests.fake_studies.quadratic import suggest as suggest

SPEC = _SPEC.replace(name="random_start", summary="fake: random start-up", n_startup_trials=100)
