"""Opening the RDB store: SQLite by default, PostgreSQL or MySQL/MariaDB for many workers.

Every study lives in storage (DESIGN, convention 2); this module only turns a URL into an
``RDBStorage`` with crash safety switched on, and turns connection failures into one line.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from sqlalchemy.engine import make_url

from search.errors import StorageError

ENV_STORAGE = "TIAOCAN_STORAGE"
DEFAULT_SQLITE_FILE = "tiaocan.db"

# A worker writes a heartbeat every HEARTBEAT_SECONDS; a RUNNING trial silent for GRACE_SECONDS
# (a killed worker) is failed and retried once by the next worker that looks.
# Both can be shortened through the environment (tests of killed workers do).
HEARTBEAT_SECONDS = int(os.environ.get("TIAOCAN_HEARTBEAT_SECONDS", "30"))
GRACE_SECONDS = int(os.environ.get("TIAOCAN_GRACE_SECONDS", "120"))
MAX_RETRY = 1
# SQLite: wait instead of failing with "database is locked" while another process (a second
# worker, optuna-dashboard) holds the write lock.
SQLITE_BUSY_TIMEOUT_SECONDS = 60


def default_storage_url() -> str:
    """``$TIAOCAN_STORAGE`` if set, else a SQLite file in the current directory."""
    return os.environ.get(ENV_STORAGE) or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe to print."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: print it as given, it holds no parsed password
        return url


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite:///`` URL, or None for other back ends and in-memory."""
    parsed = make_url(url)
    if (
        parsed.get_backend_name() != "sqlite"
        or not parsed.database
        or parsed.database == ":memory:"
    ):
        return None
    return Path(parsed.database)


def _engine_kwargs(url: str) -> dict[str, object]:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}}
    # Long studies outlive idle server connections: check them before use.
    return {"pool_pre_ping": True}


def _enable_sqlite_wal(url: str) -> None:
    """WAL lets readers (the dashboard) read while a worker writes; the mode sticks to the file."""
    engine = sqlalchemy.create_engine(url, **_engine_kwargs(url))  # type: ignore[arg-type]
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()


def _check_is_optuna_database(url: str) -> None:
    """Readers must not turn an unrelated database into an Optuna one (table creation)."""
    engine = sqlalchemy.create_engine(url, **_engine_kwargs(url))  # type: ignore[arg-type]
    try:
        has_studies = sqlalchemy.inspect(engine).has_table("studies")
    finally:
        engine.dispose()
    if not has_studies:
        raise StorageError(f"{mask_url(url)} is not an Optuna database (it has no studies table)")


def open_storage(url: str, *, must_exist: bool = False) -> optuna.storages.RDBStorage:
    """Open (and on first use create) the Optuna store at ``url``.

    ``must_exist`` is for readers (dry run, dashboard, report): they refuse a SQLite file that
    is not there and a database without Optuna's tables, and change nothing (no WAL switch).
    """
    try:
        parsed = make_url(url)
    except Exception as error:
        raise StorageError(
            f"--storage {url!r} is not a database URL; expected e.g. sqlite:///study.db "
            "or postgresql+psycopg://user@host/db"
        ) from error
    path = sqlite_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise StorageError(f"no Optuna database at {path} (from --storage {mask_url(url)})")
        if not path.parent.is_dir():
            raise StorageError(
                f"cannot open storage {mask_url(url)}: folder {path.parent} does not exist"
            )
    try:
        if must_exist:
            _check_is_optuna_database(url)
        elif path is not None:
            _enable_sqlite_wal(url)
        with warnings.catch_warnings():
            # Heartbeats are marked experimental since 2.8 but are Optuna's crash-safety path.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=_engine_kwargs(url),
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY
                ),
            )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(
            f"cannot open storage {mask_url(url)} ({parsed.get_backend_name()}): {reason}"
        ) from error
