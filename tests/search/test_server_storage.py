"""PostgreSQL and MariaDB for real: a throw-away database per test, several workers at once.

The servers run on this machine (started before the session and before CI); a test skips
with the reason when one is not reachable, and never talks to a mock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import optuna
import pytest
import sqlalchemy

from tests.conftest import QUADRATIC, REPO, finished

SERVERS = {
    "postgresql": (
        os.environ.get(
            "TIAOCAN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        'CREATE DATABASE "{name}"',
        'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
    ),
    "mysql": (
        os.environ.get("TIAOCAN_TEST_MYSQL", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
        "CREATE DATABASE `{name}`",
        "DROP DATABASE IF EXISTS `{name}`",
    ),
}

pytestmark = pytest.mark.db


@pytest.fixture(params=sorted(SERVERS))
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    admin_url, create, drop = SERVERS[request.param]
    name = f"tiaocan_test_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(create.format(name=name))
    except sqlalchemy.exc.OperationalError as error:
        engine.dispose()
        pytest.skip(f"{request.param} server not reachable at {admin_url}: {error.orig}")
    url = (
        sqlalchemy.engine.make_url(admin_url)
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    yield url
    with engine.connect() as connection:
        connection.exec_driver_sql(drop.format(name=name))
    engine.dispose()


def run_worker(url: str, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "search.run", QUADRATIC, "--storage", url, "--no-progress", *flags],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_study_resumes_on_a_server(cli, server_url):
    assert cli(QUADRATIC, "--trials", "2", "--storage", server_url)[0] == 0
    assert cli(QUADRATIC, "--trials", "4", "--storage", server_url)[0] == 0
    trials = finished(server_url, "quadratic")
    assert len(trials) == 4 and trials[0].params == {"x": 0.0}


def test_several_workers_share_one_study(cli, server_url):
    # Create the study once before the workers start (DESIGN: creation races on a fresh store).
    assert cli(QUADRATIC, "--trials", "1", "--storage", server_url)[0] == 0
    workers = [run_worker(server_url, "--trials", "16", "--worker", str(i)) for i in range(3)]
    for worker in workers:
        out, _ = worker.communicate(timeout=180)
        assert worker.returncode == 0, out
    trials = finished(server_url, "quadratic")
    # MaxTrialsCallback stops each worker once the total is reached; a worker mid-trial may
    # finish one more, so the total can pass the target by at most one trial per other worker.
    assert 16 <= len(trials) <= 18
    assert len({t.number for t in trials}) == len(trials)
    study = optuna.load_study(study_name="quadratic", storage=server_url)
    assert optuna.trial.TrialState.RUNNING not in [t.state for t in study.trials]
    xs = [t.params["x"] for t in trials]
    assert len(set(xs)) == len(xs), "two workers proposed the same point"
