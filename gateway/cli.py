"""The ``meters-integration-api`` command: serve, worker, sandbox, simulators, demo,
check-config, new-vendor."""

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import structlog
from aiohttp import web

from gateway.bootstrap.process import compose, load
from gateway.bootstrap.registry import VendorCatalog, discover_vendor_plugins
from gateway.bootstrap.secrets import configured_secrets
from gateway.broker.dead_letters_command import run_dead_letters_command
from gateway.demo.command import run_configured_demo, run_demo
from gateway.http.app import FINISH_RIDE_PATH, START_RIDE_PATH, build_app
from gateway.logging_setup import configure_logging
from gateway.observability.tracing import configure_tracing, shutdown_tracing
from gateway.sandbox.command import run_sandbox
from gateway.sandbox.simulators_command import DEFAULT_CONTROL_PORT, run_simulators
from gateway.scaffold.new_vendor import ScaffoldError, new_vendor
from gateway.settings import CONFIG_PATH_VARIABLE, ConfigError, Settings
from gateway.worker.supervisor import run_workers

EXIT_CANNOT_LISTEN = 1
EXIT_BAD_CONFIG = 2
PACKAGE = "meters-integration-api"


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
        settings, catalog = load(args.config, require_vendor_secrets=command in CALLS_REAL_VENDORS)
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


# The commands whose vendors are the real ones: an empty vendor secret is refused at start-up
# (check-config checks a file for them).
CALLS_REAL_VENDORS = frozenset({"serve", "worker"})

# Each command's --help: what it does, where it listens, how it exits.
_CONFIG_REFUSED = "the settings are refused (stderr names each bad key)"


def _described(what: str, exits: dict[int, str]) -> str:
    codes = "\n".join(f"  {code}  {meaning}" for code, meaning in exits.items())
    return f"{what}\n\nexit codes:\n{codes}"


_SERVE = _described(
    f"""\
Serve the gateway over HTTP on server.host:server.port (127.0.0.1:8080 unless set):
  POST {FINISH_RIDE_PATH}   the driver app's finish-ride
  POST {START_RIDE_PATH}  enqueue a start-ride task
  GET  /  /health  /ping  /metrics  /openapi.yaml
With broker.url empty the start-ride tasks run in this process; otherwise they go to
Redis Streams, where `worker` runs them. SIGTERM or SIGINT stops it gracefully.""",
    {0: "stopped by a signal", 1: "cannot listen", 2: _CONFIG_REFUSED},
)
_WORKER = _described(
    """\
Run worker.processes processes that take start-ride tasks from the Redis broker
(broker.url) and run them, worker.max_concurrent_tasks at a time each; their metrics
are summed on one endpoint, worker.metrics_host:worker.metrics_port (127.0.0.1:9101
unless set; 0 = off). SIGTERM lets running tasks finish for worker.shutdown_grace_ms.""",
    {0: "stopped by a signal", 2: f"{_CONFIG_REFUSED}, or broker.url is not Redis"},
)
_SANDBOX = _described(
    """\
Run the gateway on server.port together with a simulator of every platform service and
vendor it calls (each on the port its url names: 127.0.0.1:8101-8106 and the vendors'),
seed two orders for every routed country, and print requests to paste for them.
Ctrl-C stops everything.""",
    {0: "stopped", 1: "a port is taken", 2: _CONFIG_REFUSED},
)
_SIMULATORS = _described(
    """\
Serve the simulators of every platform service and vendor the settings name, without a
gateway (to rehearse a production topology: gateways and workers run apart), and a
control API on 127.0.0.1:--control-port that scripts their faults.""",
    {0: "stopped", 1: "a port is taken", 2: _CONFIG_REFUSED},
)
_DEMO = _described(
    """\
Play scripted rides end to end, each through a sandbox of its own on free loopback
ports: a start that runs the meter, finishes that answer its price, and the faults that
fall back to the driver keying the price in; each step is printed with what the gateway
did. With --config: generic rides for each vendor that file routes a country to.""",
    {
        0: "every scenario behaved",
        1: "a scenario misbehaved, or a routed vendor cannot be played",
        2: f"no scenario matches --only, or {_CONFIG_REFUSED}",
    },
)
_DEAD_LETTERS = _described(
    """\
List or requeue the start-ride tasks set aside after broker.max_deliveries deliveries
(the <broker.queue_name>:dead_letters stream). Connects to broker.url; listens on nothing.""",
    {
        0: "done",
        1: "Redis cannot be reached, an id is no dead letter, or a requeue is not yet on "
        "the replicas",
        2: f"{_CONFIG_REFUSED}, or broker.url is not Redis",
    },
)
_CHECK_CONFIG = _described(
    """\
Validate a settings file and the METERS_* variables with the installed vendor plugins,
as serve and worker would, print the routing and exit. Connects to nothing.""",
    {0: "valid", 2: _CONFIG_REFUSED},
)
_NEW_VENDOR = _described(
    """\
Write a vendor plugin package (its vendor, settings, simulator and kit tests) that passes
the conformance kit as written, into an absent or empty directory.""",
    {0: "written", 2: "the name or the directory is refused"},
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meters-integration-api",
        description="Smart taxi meter gateway: starts a meter ride when a ride starts and "
        "answers the driver its final price when it ends (docs/design.md).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(PACKAGE)}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_help = f"TOML settings file (default: ${CONFIG_PATH_VARIABLE}, else built-in defaults)"

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    serve = command("serve", "run the HTTP gateway", _SERVE)
    serve.add_argument("--config", type=Path, help=config_help)
    worker = command("worker", "run task worker processes (Redis broker only)", _WORKER)
    worker.add_argument("--config", type=Path, help=config_help)
    sandbox = command(
        "sandbox",
        "run the gateway with simulators of every service it calls, and demo orders",
        _SANDBOX,
    )
    sandbox.add_argument("--config", type=Path, help=config_help)
    simulators = command(
        "simulators",
        "serve simulators of every platform service and vendor the settings name, "
        "without a gateway (to rehearse a production topology on one machine)",
        _SIMULATORS,
    )
    simulators.add_argument("--config", type=Path, help=config_help)
    simulators.add_argument(
        "--control-port",
        type=int,
        default=DEFAULT_CONTROL_PORT,
        help=f"port of the control API on 127.0.0.1 (default {DEFAULT_CONTROL_PORT}; 0 = any)",
    )
    demo = command("demo", "play scripted rides through a sandbox, step by step", _DEMO)
    demo.add_argument("--only", metavar="TEXT", help="play only scenarios whose name has TEXT")
    demo.add_argument(
        "--config",
        type=Path,
        help="play generic rides (start, finish, a fault) for every vendor this settings file "
        "routes a country to, third-party ones included, instead of the scripted ones",
    )
    new_vendor = command(
        "new-vendor", "write a vendor plugin package that passes the conformance kit", _NEW_VENDOR
    )
    new_vendor.add_argument("name", help="the vendor's name: its [vendors.NAME] key")
    new_vendor.add_argument(
        "--dest", type=Path, required=True, help="an absent or empty directory to write into"
    )
    dead_letters = command(
        "dead-letters", "list or requeue tasks set aside after broker.max_deliveries", _DEAD_LETTERS
    )
    dead_letters.add_argument("--config", type=Path, help=config_help)
    actions = dead_letters.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="show the dead letters, oldest first")
    requeue = actions.add_parser("requeue", help="put dead letters back in the task stream")
    for action in (listing, requeue):
        # `dead-letters list --config FILE` as the runbooks write it, and `dead-letters
        # --config FILE list`: SUPPRESS leaves the first one's value when this one is absent.
        action.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    which = requeue.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", default=[], metavar="ID", help="dead-letter ids")
    which.add_argument("--all", action="store_true", help="every dead letter")
    check = command("check-config", "validate a settings file and exit", _CHECK_CONFIG)
    check.add_argument("file", type=Path)
    return parser


def _config_error(error: ConfigError) -> int:
    print(f"configuration error:\n{error}", file=sys.stderr)
    return EXIT_BAD_CONFIG


def _check_config(path: Path) -> int:
    settings, catalog = load(path, require_vendor_secrets=True)
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
    try:
        web.run_app(app, host=settings.server.host, port=settings.server.port, print=None)
    except OSError as error:  # the port taken, most likely
        print(f"serve cannot listen: {error}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
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
