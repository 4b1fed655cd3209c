"""optuna-dashboard in one flag: served in-process from a background thread, or standalone.

``python -m search.dashboard --storage sqlite:///tiaocan.db`` serves the dashboard until
Ctrl-C; the engine's ``--dashboard`` flag calls ``start_dashboard`` beside a running study.

Gotchas of optuna-dashboard 0.21 that shaped this module:

- Its own CLI opens a SQLite path that does not exist and leaves an empty file behind; we open
  the storage with ``must_exist=True`` and refuse a storage that holds no studies.
- Trials are cached per app for 2 s (< 100 trials), 5 s (< 500) or 10 s, so a page can lag
  a worker by that much. Parameter importances are cached in a module-level dict keyed by
  ``"{study_id}:{objective}"`` and the number of completed trials, shared by every app in the
  process (two storages with a study 1 each can see each other's importances).
- The study note lives in study system attrs (``dashboard:note_ver`` plus 2,045-character
  chunks ``dashboard:note_str:<i>``); every ``save_note`` bumps the version, so we only write
  a note that changed. Metric names come from ``study:metric_names`` (``set_metric_names``).
- wsgiref logs every request to stderr, which would tear a live terminal display apart.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys
import threading
import warnings
from collections.abc import Sequence
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import optuna
import optuna_dashboard

from search.errors import StorageError, TiaocanError, UsageError
from search.storage import default_storage_url, mask_url, open_storage

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def annotate_study(study: optuna.Study, *, metric_name: str, note_markdown: str) -> None:
    """Name the objective and attach a Markdown note, both shown by the dashboard.

    Idempotent: a resumed study with the same name and note is not written to again.
    """
    if study.metric_names != [metric_name]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([metric_name])
    if optuna_dashboard.get_note(study) != note_markdown:
        optuna_dashboard.save_note(study, note_markdown)


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        """Silenced: one stderr line per request would scroll a live display away."""


class _ThreadedWSGIServer(ThreadingMixIn, WSGIServer):
    # The page polls several endpoints at once; a slow one must not hold the others.
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing a tab mid-response is normal, not worth a traceback on stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class DashboardServer:
    """A running dashboard; ``url`` is the page to open, ``stop()`` ends it."""

    def __init__(self, httpd: _ThreadedWSGIServer, host: str) -> None:
        self._httpd = httpd
        shown_host = f"[{host}]" if ":" in host else host
        self.port: int = httpd.server_address[1]
        self.url: str = f"http://{shown_host}:{self.port}/dashboard/"
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="optuna-dashboard", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (or ``timeout`` seconds pass)."""
        self._thread.join(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _listen(host: str, port: int, app: Any, port_flag: str) -> _ThreadedWSGIServer:
    try:
        return make_server(
            host, port, app, server_class=_ThreadedWSGIServer, handler_class=_QuietRequestHandler
        )
    except socket.gaierror as error:
        raise UsageError(f"cannot listen on host {host!r}: {error.strerror}") from error
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {host} is in use; pass {port_flag} N") from error
        raise UsageError(
            f"cannot listen on {host}:{port} ({error.strerror}); pass {port_flag} N"
        ) from error


def check_port_free(port: int, *, host: str = DEFAULT_HOST, port_flag: str = "--port") -> None:
    """Fail before anything is written when the dashboard could not listen later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UsageError(f"port {port} on {host} is in use; pass {port_flag} N") from error
            raise UsageError(f"cannot listen on {host}:{port} ({error.strerror})") from error


def start_dashboard(
    storage_url: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    port_flag: str = "--dashboard-port",
) -> DashboardServer:
    """Serve optuna-dashboard for ``storage_url`` from a background thread.

    ``port=0`` picks a free port. ``port_flag`` is the flag named in a busy-port message.
    Raises StorageError for a missing or study-less storage, UsageError for a bad address.
    """
    storage = open_storage(storage_url, must_exist=True)
    if not storage.get_all_studies():
        raise StorageError(
            f"storage {mask_url(storage_url)} holds no studies yet; start a study first "
            "(the dashboard would show an empty page)"
        )
    return DashboardServer(_listen(host, port, optuna_dashboard.wsgi(storage), port_flag), host)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, but got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, but got {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m search.dashboard",
        description="Serve optuna-dashboard for the studies in a tiaocan storage.\n"
        "It only reads, so it is safe beside running workers (SQLite included).",
        epilog="examples:\n  python -m search.dashboard --storage sqlite:///tiaocan.db\n"
        "  python -m search.dashboard --storage postgresql+psycopg://me@db/tiaocan --port 8081",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default = default_storage_url()
    parser.add_argument(
        "--storage",
        default=default,
        help=f"database URL (default: $TIAOCAN_STORAGE or {mask_url(default)})",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port, 0 for any free one (default: 8080)",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to bind (default: 127.0.0.1, this machine only; the dashboard has no "
        "login, so bind 0.0.0.0 only on a trusted network)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = start_dashboard(args.storage, host=args.host, port=args.port, port_flag="--port")
    except TiaocanError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    print(f"optuna-dashboard for {mask_url(args.storage)} at {server.url} (Ctrl-C to stop)")
    sys.stdout.flush()
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
