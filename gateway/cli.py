"""The ``meters-integration-api`` command: serve, worker, sandbox, simulators, demo,
check-config, new-vendor."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import structlog
from aiohttp import web

from gateway.bootstrap.process import compose, load
from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.bootstrap.secrets import configured_secrets
from gateway.broker.dead_letters_command import run_dead_letters_command
from gateway.demo.command import run_configured_demo, run_demo
from gateway.http.app import build_app
from gateway.logging_setup import configure_logging
from gateway.observability.tracing import configure_tracing, shutdown_tracing
from gateway.sandbox.command import run_sandbox
from gateway.sandbox.simulators_command import DEFAULT_CONTROL_PORT, run_simulators
from gateway.scaffold.new_vendor import ScaffoldError, new_vendor
from gateway.settings import CONFIG_PATH_VARIABLE, ConfigError, Settings
from gateway.worker.supervisor import run_workers

EXIT_BAD_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: str = args.command
    if command == "demo":
        return _demo(args.only, args.config)
    if command == "new-vendor":
        return _new_vendor(args.name, args.dest)
    try:
        if command == "check-config":
            return _check_config(args.file)
        settings, catalog = load(args.config)
    except ConfigError as error:
        return _config_error(error)
    configure_logging(settings.log_level, secrets=configured_secrets(settings, catalog))
    _report_plugin_failures(catalog)
    if command == "simulators":
        return _simulators(settings, catalog, args.control_port)
    if command == "dead-letters":
        return _dead_letters(settings, args)
    run = {"serve": _serve, "worker": _work, "sandbox": _sandbox}[command]
    # Traces, when the OTEL_* environment asks for them (docs/operations.md, "Traces").
    configure_tracing()
    try:
        return run(settings, catalog)
    finally:
        shutdown_tracing()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meters-integration-api", description="Smart taxi meter gateway."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    config_help = f"TOML settings file (default: ${CONFIG_PATH_VARIABLE}, else built-in defaults)"
    serve = commands.add_parser("serve", help="run the HTTP gateway")
    serve.add_argument("--config", type=Path, help=config_help)
    worker = commands.add_parser("worker", help="run task worker processes (Redis broker only)")
    worker.add_argument("--config", type=Path, help=config_help)
    sandbox = commands.add_parser(
        "sandbox", help="run the gateway with simulators of every service it calls, and demo orders"
    )
    sandbox.add_argument("--config", type=Path, help=config_help)
    simulators = commands.add_parser(
        "simulators",
        help="serve simulators of every platform service and vendor the settings name, "
        "without a gateway (to rehearse a production topology on one machine)",
    )
    simulators.add_argument("--config", type=Path, help=config_help)
    simulators.add_argument(
        "--control-port",
        type=int,
        default=DEFAULT_CONTROL_PORT,
        help=f"port of the control API on 127.0.0.1 (default {DEFAULT_CONTROL_PORT}; 0 = any)",
    )
    demo = commands.add_parser("demo", help="play scripted rides through a sandbox, step by step")
    demo.add_argument("--only", metavar="TEXT", help="play only scenarios whose name has TEXT")
    demo.add_argument(
        "--config",
        type=Path,
        help="play generic rides (start, finish, a fault) for every vendor this settings file "
        "routes a country to, third-party ones included, instead of the scripted ones",
    )
    new_vendor = commands.add_parser(
        "new-vendor", help="write a vendor plugin package that passes the conformance kit"
    )
    new_vendor.add_argument("name", help="the vendor's name: its [vendors.NAME] key")
    new_vendor.add_argument(
        "--dest", type=Path, required=True, help="an absent or empty directory to write into"
    )
    dead_letters = commands.add_parser(
        "dead-letters", help="list or requeue tasks set aside after broker.max_deliveries"
    )
    dead_letters.add_argument("--config", type=Path, help=config_help)
    actions = dead_letters.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="show the dead letters, oldest first")
    requeue = actions.add_parser("requeue", help="put dead letters back in the task stream")
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", default=[], metavar="ID", help="dead-letter ids")
    which.add_argument("--all", action="store_true", help="every dead letter")
    check = commands.add_parser("check-config", help="validate a settings file and exit")
    check.add_argument("file", type=Path)
    return parser


def _config_error(error: ConfigError) -> int:
    print(f"configuration error:\n{error}", file=sys.stderr)
    return EXIT_BAD_CONFIG


def _check_config(path: Path) -> int:
    settings, catalog = load(path)
    print(f"{path}: OK")
    for country, country_settings in sorted(settings.countries.items()):
        zones = settings.zones_of_country(country)
        print(f"  {country}: vendor {country_settings.vendor}, zones {', '.join(zones) or 'none'}")
    print(f"  broker: {'redis streams' if settings.broker.url else 'in-memory'}")
    for failure in catalog.failures:
        print(f"  plugin {failure.plugin} failed to load: {failure.error}")
    return 0


def _report_plugin_failures(catalog: VendorCatalog) -> None:
    log = structlog.get_logger("gateway.plugins")
    for failure in catalog.failures:
        log.error("plugins.load_failed", plugin=failure.plugin, error=failure.error)


def _serve(settings: Settings, catalog: VendorCatalog) -> int:
    app = build_app(compose(settings, catalog))
    structlog.get_logger("gateway").info(
        "gateway.starting",
        host=settings.server.host,
        port=settings.server.port,
        broker="redis" if settings.broker.url else "in-memory",
        vendors=sorted(catalog.vendors),
    )
    web.run_app(app, host=settings.server.host, port=settings.server.port, print=None)
    return 0


def _work(settings: Settings, catalog: VendorCatalog) -> int:
    if not settings.broker.url:
        # With the in-memory broker the tasks run inside `serve`; there is no queue to share.
        print(
            "configuration error:\nbroker.url: the worker needs a Redis broker (redis://...)",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG
    structlog.get_logger("gateway").info(
        "worker.starting",
        processes=settings.worker.processes,
        max_concurrent_tasks=settings.worker.max_concurrent_tasks,
        vendors=sorted(catalog.vendors),
    )
    run_workers(settings, catalog)
    return 0


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.broker.url:
        print(
            "configuration error:\nbroker.url: dead letters live in a Redis broker (redis://...)",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG
    ids: list[str] = [] if args.action == "list" else args.ids
    return run_dead_letters_command(settings.broker, args.action, ids)


def _sandbox(settings: Settings, catalog: VendorCatalog) -> int:
    try:
        return run_sandbox(settings, catalog)
    except ConfigError as error:
        return _config_error(error)


def _simulators(settings: Settings, catalog: VendorCatalog, control_port: int) -> int:
    try:
        return run_simulators(settings, catalog, control_port)
    except ConfigError as error:
        return _config_error(error)


def _demo(only: str | None, config: Path | None) -> int:
    # The demo's own report is the output; the gateway's log lines would drown it.
    configure_logging("ERROR")
    if config is None:
        catalog = discover_vendor_plugins()
        _report_plugin_failures(catalog)
        return run_demo(catalog, only)
    try:
        settings, catalog = load(config)
    except ConfigError as error:
        return _config_error(error)
    _report_plugin_failures(catalog)
    return run_configured_demo(settings, catalog, only)


def _new_vendor(name: str, dest: Path) -> int:
    try:
        written = new_vendor(name, dest)
    except ScaffoldError as error:
        print(f"new-vendor: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    print(f"wrote {len(written)} files of vendor {name!r} into {dest}:")
    for path in written:
        print(f"  {path.relative_to(dest)}")
    print(f"next: pip install -e '{dest}[test]' && (cd {dest} && pytest)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
