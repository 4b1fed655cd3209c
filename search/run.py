"""``python -m search.run STUDY``: tune a study, resumably, into an RDB store.

Running the same command again continues the stored study up to ``--trials`` finished
trials. Only ``main`` turns errors into exit codes: 0 done, 1 failure, 2 usage, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

import optuna
from rich.console import Console

from search import engine
from search.dashboard import port_number
from search.errors import TiaocanError, UsageError
from search.pruners import describe_pruners
from search.spec import StudySpec, load_study, study_names
from search.storage import ENV_STORAGE, default_storage_url, mask_url

EXIT_INTERRUPTED = 130


def _worker_index(text: str) -> int:
    try:
        index = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, but got {text!r}") from None
    if index < 0:
        raise argparse.ArgumentTypeError(f"--worker must be >= 0, but got {index}")
    return index


def build_parser() -> argparse.ArgumentParser:
    pruners = describe_pruners()
    parser = argparse.ArgumentParser(
        prog="python -m search.run",
        description="Tune a study with Optuna; every trial is stored, and rerunning the same "
        "command resumes the study where it stopped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"studies: {', '.join(study_names())} (or a dotted module path of your own)\n"
        "pruners:\n"
        + "".join(f"  {name:<12} {text}\n" for name, text in pruners.items())
        + "\nexamples:\n"
        "  python -m search.run ner_study                      # tune, into ./tiaocan.db\n"
        "  python -m search.run ner_study --trials 40          # the same study, continued\n"
        "  python -m search.run ner_study --data ../shared/data/conll2003 --dashboard\n"
        "  python -m search.run ner_study --storage postgresql+psycopg://me@db/tiaocan "
        "--worker 1\n",
    )
    parser.add_argument("study", nargs="?", help="study name (see --list)")
    parser.add_argument(
        "--trials",
        metavar="N",
        type=int,
        help="target total of finished (COMPLETE + PRUNED) trials in the study",
    )
    parser.add_argument(
        "--timeout", type=float, help="stop starting new trials after this many seconds"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help=f"Optuna RDB URL (default: ${ENV_STORAGE} or sqlite:///tiaocan.db here)",
    )
    parser.add_argument("--study-name", help="name of the stored study (default: the study's name)")
    parser.add_argument(
        "--seed",
        metavar="N",
        type=int,
        help="training seed of every trial; the sampler's seed derives from it (default 42)",
    )
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="folder of CoNLL train/dev(/test) files (default: the embedded synthetic corpus)",
    )
    parser.add_argument(
        "--epochs", type=int, help="training epochs per trial (default: the study's own)"
    )
    parser.add_argument(
        "--param-ratio",
        metavar="R",
        type=float,
        help="parameter budget as a multiple of training samples (default 0.5; 0.1 is strict)",
    )
    parser.add_argument(
        "--pruner", choices=None, help=f"pruner: {', '.join(pruners)} (default: the study's own)"
    )
    parser.add_argument(
        "--worker",
        metavar="I",
        type=_worker_index,
        default=0,
        help="index of this worker when several share a study (varies the sampler seed)",
    )
    parser.add_argument(
        "--dashboard",
        action="store_true",
        help="serve optuna-dashboard on this study while it runs",
    )
    parser.add_argument(
        "--dashboard-port",
        metavar="PORT",
        type=port_number,
        default=8080,
        help="port for --dashboard on 127.0.0.1 (default 8080)",
    )
    parser.add_argument(
        "--keep-dashboard",
        action="store_true",
        help="keep the dashboard up after the run until Ctrl-C",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="plain log lines instead of the live view"
    )
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show spec, search space, data and storage; train nothing",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def spec_from_args(spec: StudySpec, args: argparse.Namespace) -> StudySpec:
    changes = {
        "n_trials": args.trials,
        "timeout": args.timeout,
        "seed": args.seed,
        "n_epochs": args.epochs,
        "param_ratio": args.param_ratio,
        "pruner": args.pruner,
    }
    return spec.replace(**{key: value for key, value in changes.items() if value is not None})


def list_studies(console: Console) -> None:
    for name in study_names():
        try:
            summary = load_study(name).spec.summary
        except TiaocanError as error:
            summary = f"(broken: {error})"
        console.print(f"{name:<20} {summary}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Our own lines say what happens; Optuna's INFO lines would repeat them.
    optuna.logging.set_verbosity(optuna.logging.DEBUG if args.debug else optuna.logging.WARNING)
    console = Console(highlight=False, soft_wrap=True)
    try:
        if args.list:
            list_studies(console)
            return 0
        if not args.study:
            raise UsageError("name a study to run (one of: " + ", ".join(study_names()) + ")")
        return _run(args, console)
    except KeyboardInterrupt:
        console.print("interrupted")
        return EXIT_INTERRUPTED
    except TiaocanError as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def _run(args: argparse.Namespace, console: Console) -> int:
    from search import dry_run, progress

    study = load_study(args.study)
    spec = spec_from_args(study.spec, args)
    storage_url = args.storage or default_storage_url()
    study_name = args.study_name or spec.name
    console.print(f"storage: {mask_url(storage_url)}  study: {study_name}")
    prepared = engine.prepare(study, spec, args.data)
    console.print(f"data: {dry_run.describe_data(prepared.data)}")
    console.print(f"budget: {prepared.budget.describe()}")
    if args.dry_run:
        dry_run.show(prepared, storage_url, study_name, console)
        return 0
    if args.dashboard:
        from search.dashboard import check_port_free

        check_port_free(args.dashboard_port, port_flag="--dashboard-port")
    stored = engine.open_study(prepared, storage_url, study_name)
    n_finished = engine.count_finished(stored)
    if n_finished >= spec.n_trials:
        console.print(
            f"study {study_name!r} already has {n_finished} finished trials "
            f"(target {spec.n_trials}); "
            "nothing to do. Pass a larger --trials to continue it."
        )
        if args.dashboard:
            console.print(
                f"to watch it: python -m search.dashboard --storage {mask_url(storage_url)}"
            )
        progress.render_best(stored, console)
        return 0
    dashboard = _start_dashboard(args, storage_url, console)
    from search.dashboard import annotate_study

    annotate_study(
        stored, metric_name=spec.metric, note_markdown=dry_run.note(prepared, study_name)
    )
    view = progress.StudyView(
        console,
        target_trials=spec.n_trials,
        live=False if args.no_progress else None,
        key_params=getattr(study.module, "KEY_PARAMS", ()),
    )
    try:
        try:
            with progress.quiet_libraries(console):
                result = engine.run(prepared, stored, observer=view, worker=args.worker)
        except KeyboardInterrupt:
            console.print(
                "interrupted: the running trial is marked FAIL; finished trials are stored. "
                "Rerun the same command to continue."
            )
            return EXIT_INTERRUPTED
        console.print(
            f"{result.n_finished} of {result.n_target} finished trials"
            + (" (stopped by --timeout)" if result.stopped_by_timeout else "")
        )
        progress.render_best(stored, console)
        console.print(
            f"watch it: optuna-dashboard {mask_url(storage_url)}   "
            f"or   python -m search.dashboard --storage {mask_url(storage_url)}"
        )
        if dashboard is not None and args.keep_dashboard:
            console.print(f"dashboard still at {dashboard.url}; Ctrl-C to stop it")
            _wait_forever()
    finally:
        if dashboard is not None:
            dashboard.stop()
    return 0


def _start_dashboard(args: argparse.Namespace, storage_url: str, console: Console):  # type: ignore[no-untyped-def]
    if not args.dashboard:
        return None
    from search.dashboard import start_dashboard

    server = start_dashboard(storage_url, port=args.dashboard_port)
    console.print(f"dashboard: {server.url}")
    return server


def _wait_forever() -> None:
    import threading

    try:
        threading.Event().wait()
    except KeyboardInterrupt:  # the run itself is over: Ctrl-C only stops the dashboard
        pass


if __name__ == "__main__":
    raise SystemExit(main())
