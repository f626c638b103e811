"""Settings, read from the environment once, in the app's lifespan or a CLI command.

Secrets never show in `repr`. Production refuses to start without real keys.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many

from graph.followup import StageDeadlines
from graph.localdb import LocalDatabase
from graph.risk import AlertPolicy

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".shouhu"

LOCAL_BOLT_PORT = 7687
LOCAL_USER = "neo4j"
# The local development database is only reachable on loopback; its password is a
# well-known development value, and production never uses the local database.
LOCAL_PASSWORD = "shouhu-local-dev"  # noqa: S105
DEV_JWT_SECRET = "shouhu-development-secret-do-not-deploy"  # noqa: S105
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", DEV_JWT_SECRET})


class SettingsError(ValueError):
    """A setting is missing or unusable; the message names the variable."""


MIB = 1024 * 1024
#: Each API process holds a driver of up to 100 connections: 32 of them are 3,200 for the database.
MAX_WORKERS = 32


def _limit(default: int | str, bounds: str) -> Any:
    return field(default=default, metadata={"bounds": bounds})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request may ask for (docs/access.md, Abuse limits).

    Each is set by the environment variable `SHOUHU_` + its name in capitals
    (`SHOUHU_MAX_COST=40000`); docs/generated/limits.md lists them from here.
    """

    max_depth: int = _limit(10, "nesting of fields in an operation")
    max_aliases: int = _limit(30, "aliases in an operation")
    max_tokens: int = _limit(2000, "tokens of the document, plus one per value, key and list item of its variables")
    max_cost: int = _limit(20000, "estimated cost: fields times the pages and lists above them")
    max_page: int = _limit(500, "a page size (`first`, `last`), from 1; some fields allow fewer")
    max_bundle_bytes: int = _limit(5 * MIB, "the NDJSON of one `importBundle`, in bytes")
    max_body_bytes: int = _limit(1 * MIB, "the body of any request but an `importBundle` one, in bytes")
    # Generous for field use: a web client opening a page sends a few dozen queries at once,
    # and a director working through the day sends far fewer than ten a second.
    rate_limit: str = _limit(
        "30/second;600/minute",
        "requests per caller (token subject and role), in windows separated by `;`, counted per process",
    )
    rate_limit_storage: str = _limit(
        "memory://",
        "where the rate windows live; shared storage (`redis://host:6379`, with the `redis` package) "
        "counts across replicas",
    )
    id_lookups_per_minute: int = _limit(
        10, "look-ups by a full ID number (`searchPersons(idNumber:)`) a subject makes a minute"
    )
    id_lookups_per_day: int = _limit(100, "look-ups by a full ID number a subject makes a day")

    @property
    def max_import_body_bytes(self) -> int:
        """The largest body admitted, and only for importBundle: a bundle at its limit written as a
        JSON string, where escaping (`\\"`, `\\uXXXX`) can double its bytes, and the rest of the request."""
        return 2 * self.max_bundle_bytes + self.max_body_bytes

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> Limits:
        values: dict[str, object] = {}
        for spec in fields(cls):
            name = f"SHOUHU_{spec.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            if spec.type in (int, "int"):
                try:
                    number = int(raw)
                except ValueError as error:
                    raise SettingsError(f"{name}: not a whole number: {raw!r}") from error
                if number < 1:
                    raise SettingsError(f"{name}: must be at least 1, not {number}")
                values[spec.name] = number
            else:
                values[spec.name] = raw
        limits = cls(**values)  # type: ignore[arg-type]
        try:
            parse_many(limits.rate_limit)
        except ValueError as error:
            raise SettingsError(
                f"SHOUHU_RATE_LIMIT: not a rate like 600/minute or 30/second;600/minute: {limits.rate_limit!r}"
            ) from error
        return limits


@dataclass(frozen=True, slots=True)
class Capacity:
    """How much one API process takes on at once, and how long anything may wait (api/shedding.py).

    Fewer requests run at once than the driver has connections (`SHOUHU_NEO4J_POOL_SIZE`), so a
    burst is refused at the door with `LIMIT_EXCEEDED` (429 for one caller's excess, 503 when the
    process is full, with `Retry-After`) instead of timing out deep inside on a full pool.
    """

    #: requests of this process served at once (GraphQL over HTTP; sockets are not counted)
    max_in_flight: int = 64
    #: of those, requests of one caller (token subject and role) at once
    max_in_flight_per_caller: int = 16
    #: seconds a request waits for a free place before it is refused with 503
    queue_timeout: float = 0.5
    #: seconds a request may take before it is answered `DATABASE_UNAVAILABLE`
    request_timeout: float = 10.0
    #: the same for an operation that imports a bundle (`importBundle`)
    import_timeout: float = 300.0


@dataclass(frozen=True, slots=True)
class Settings:
    neo4j_uri: str
    neo4j_user: str
    neo4j_password: str = field(repr=False)
    neo4j_database: str
    local_database: LocalDatabase | None
    jwt_secret: str | None = field(repr=False)
    jwks_file: Path | None
    environment: str
    timezone: ZoneInfo
    host: str
    port: int
    #: API processes `shouhu serve` starts on the one port, each with its own driver and caches.
    workers: int = 1
    limits: Limits = field(default_factory=Limits)
    #: seconds to open a connection to the database (TCP and Bolt handshake)
    connection_timeout: float = 1.0
    #: seconds the driver keeps retrying a transaction that failed transiently
    retry_budget: float = 1.0
    #: connections the driver keeps to the database at most
    pool_size: int = 100
    #: seconds a query waits for a free connection before it is refused as overload
    acquisition_timeout: float = 2.0
    capacity: Capacity = field(default_factory=Capacity)
    #: who may read `/metrics`: `loopback` (clients on 127.0.0.1 or ::1), `on` (anyone) or `off`
    metrics: str = "loopback"
    #: days an alert of each colour may stay live before it is handed up (docs/operations.md)
    alert_policy: AlertPolicy = field(default_factory=AlertPolicy)
    #: whether this process runs the daily sweep (under a database lock: one replica a day)
    daily_sweep: bool = False
    #: the local time of day (in `timezone`) after which the daily sweep is due
    daily_sweep_at: dt.time = dt.time(2, 0)
    #: Hours a case may stay at each stage, by urgency (`SHOUHU_CASE_DUE_IMMEDIATE|HIGH|NORMAL`).
    case_deadlines: StageDeadlines = field(default_factory=StageDeadlines)
    #: Origins (`https://host[:port]`) whose pages may call the API from a browser; none by default.
    cors_origins: tuple[str, ...] = ()
    #: Origins the console's pages may connect to besides their own (an identity provider).
    console_connect_origins: tuple[str, ...] = ()
    #: The console's build (`make console`); absent, `/` says how to build it.
    console_dir: Path = PROJECT_ROOT / "console" / "dist"
    #: how often this process polls the database for red alerts raised through any replica (0: never)
    alert_poll_seconds: float = 1.0
    #: after SIGTERM: how long readiness answers 503 while requests are still served, so that a
    #: balancer stops sending new ones before the process stops listening
    shutdown_drain_seconds: float = 5.0
    #: then how long requests under way may take to finish before they are cut
    shutdown_timeout_seconds: float = 20.0

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        environment = env.get("SHOUHU_ENV", "development")
        if environment not in {"development", "test", "production"}:
            raise SettingsError(f"SHOUHU_ENV: must be development, test or production, not {environment!r}")
        local = LocalDatabase(
            home=Path(env.get("SHOUHU_NEO4J_HOME", str(STATE_DIR / "neo4j"))),
            bolt_port=_port(env, "SHOUHU_NEO4J_PORT", LOCAL_BOLT_PORT),
            pagecache=env.get("SHOUHU_NEO4J_PAGECACHE", "1g"),
            heap=env.get("SHOUHU_NEO4J_HEAP", "1g"),
            tx_total_max=env.get("SHOUHU_NEO4J_TX_TOTAL_MAX", "1g"),
            tx_max=env.get("SHOUHU_NEO4J_TX_MAX", "768m"),
            tx_timeout=env.get("SHOUHU_NEO4J_TX_TIMEOUT", "120s"),
        )
        uri = env.get("NEO4J_URI") or None
        if uri is None:
            if environment == "production":
                raise SettingsError("NEO4J_URI: production needs an explicit database")
            uri = f"bolt://127.0.0.1:{local.bolt_port}"
            user = env.get("NEO4J_USER", LOCAL_USER)
            password = env.get("NEO4J_PASSWORD", LOCAL_PASSWORD)
            local_database: LocalDatabase | None = local
        else:
            user = env.get("NEO4J_USER", LOCAL_USER)
            password = env.get("NEO4J_PASSWORD", "")
            if not password:
                raise SettingsError("NEO4J_PASSWORD: required when NEO4J_URI is set")
            local_database = None

        jwt_secret = env.get("SHOUHU_JWT_SECRET") or None
        jwks = env.get("SHOUHU_JWKS_FILE") or None
        jwks_file = Path(jwks) if jwks else None
        if environment == "production":
            if jwks_file is None:
                raise SettingsError("SHOUHU_JWKS_FILE: production verifies RS256/ES256 tokens against public keys")
            if jwt_secret is not None:
                raise SettingsError("SHOUHU_JWT_SECRET: development HS256 tokens are refused in production")
        elif jwt_secret is None:
            jwt_secret = DEV_JWT_SECRET
        elif jwt_secret.lower() in PLACEHOLDER_SECRETS - {DEV_JWT_SECRET} or len(jwt_secret.encode()) < 32:
            raise SettingsError(
                "SHOUHU_JWT_SECRET: a placeholder, or shorter than 32 bytes (HS256 needs at least 256 bits)"
            )

        zone_name = env.get("SHOUHU_TIMEZONE", "Asia/Shanghai")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise SettingsError(f"SHOUHU_TIMEZONE: unknown time zone {zone_name!r}") from error

        return cls(
            neo4j_uri=uri,
            neo4j_user=user,
            neo4j_password=password,
            neo4j_database=env.get("NEO4J_DATABASE", "neo4j"),
            local_database=local_database,
            jwt_secret=jwt_secret,
            jwks_file=jwks_file,
            environment=environment,
            timezone=zone,
            host=env.get("SHOUHU_HOST", "127.0.0.1"),
            port=_port(env, "SHOUHU_PORT", 8000),
            workers=_workers(env, "SHOUHU_WORKERS"),
            limits=Limits.from_environment(env),
            alert_policy=AlertPolicy(
                red_days=_days(env, "SHOUHU_ALERT_DUE_RED_DAYS", 1),
                yellow_days=_days(env, "SHOUHU_ALERT_DUE_YELLOW_DAYS", 7),
                blue_days=_days(env, "SHOUHU_ALERT_DUE_BLUE_DAYS", 30),
            ),
            # Tests sweep when they mean to: a background sweep would change alerts under them.
            daily_sweep=_switch(env, "SHOUHU_DAILY_SWEEP", environment != "test"),
            daily_sweep_at=_time_of_day(env, "SHOUHU_DAILY_SWEEP_AT", dt.time(2, 0)),
            case_deadlines=_case_deadlines(env),
            cors_origins=_origins(env, "SHOUHU_CORS_ORIGINS"),
            console_connect_origins=_origins(env, "SHOUHU_CONSOLE_CONNECT_ORIGINS"),
            console_dir=Path(env.get("SHOUHU_CONSOLE_DIR") or PROJECT_ROOT / "console" / "dist"),
            alert_poll_seconds=_seconds(env, "SHOUHU_ALERT_POLL_SECONDS", 1.0, low=0.1, high=60.0, off=True),
            shutdown_drain_seconds=_seconds(env, "SHOUHU_SHUTDOWN_DRAIN_SECONDS", 5.0, low=0.0, high=300.0),
            shutdown_timeout_seconds=_seconds(env, "SHOUHU_SHUTDOWN_TIMEOUT_SECONDS", 20.0, low=1.0, high=600.0),
            **_resilience(env),
        )


def _resilience(env: Mapping[str, str]) -> dict[str, Any]:
    """The driver's bounds and the process's capacity (docs/operations.md, Overload and outages)."""
    pool_size = _count(env, "SHOUHU_NEO4J_POOL_SIZE", 100)
    capacity = Capacity(
        max_in_flight=_count(env, "SHOUHU_MAX_IN_FLIGHT", 64),
        max_in_flight_per_caller=_count(env, "SHOUHU_MAX_IN_FLIGHT_PER_CALLER", 16),
        queue_timeout=_seconds(env, "SHOUHU_QUEUE_TIMEOUT", 0.5, low=0.0, high=60.0),
        request_timeout=_seconds(env, "SHOUHU_REQUEST_TIMEOUT", 10.0, low=0.1, high=3600.0),
        import_timeout=_seconds(env, "SHOUHU_IMPORT_TIMEOUT", 300.0, low=1.0, high=86400.0),
    )
    if capacity.max_in_flight >= pool_size:
        # A request can hold several connections at once (its fields resolve concurrently).
        raise SettingsError(
            f"SHOUHU_MAX_IN_FLIGHT: {capacity.max_in_flight} must be below SHOUHU_NEO4J_POOL_SIZE ({pool_size})"
        )
    metrics = env.get("SHOUHU_METRICS", "loopback").strip().lower() or "loopback"
    if metrics not in {"loopback", "on", "off"}:
        raise SettingsError(f"SHOUHU_METRICS: loopback, on or off, not {metrics!r}")
    return {
        "connection_timeout": _seconds(env, "SHOUHU_NEO4J_CONNECTION_TIMEOUT", 1.0, low=0.1, high=120.0),
        "retry_budget": _seconds(env, "SHOUHU_NEO4J_RETRY_TIME", 1.0, low=0.0, high=300.0),
        "pool_size": pool_size,
        "acquisition_timeout": _seconds(env, "SHOUHU_NEO4J_ACQUISITION_TIMEOUT", 2.0, low=0.1, high=120.0),
        "capacity": capacity,
        "metrics": metrics,
    }


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name}: a whole number, 1 or more, not {raw!r}")
    return int(raw)


def _case_deadlines(env: Mapping[str, str]) -> StageDeadlines:
    variables = {
        "immediate": "SHOUHU_CASE_DUE_IMMEDIATE",
        "high": "SHOUHU_CASE_DUE_HIGH",
        "normal": "SHOUHU_CASE_DUE_NORMAL",
    }
    given = {urgency: env[name] for urgency, name in variables.items() if env.get(name)}
    try:
        return StageDeadlines.parse(given)
    except ValueError as error:
        urgency, _, reason = str(error).partition(": ")
        raise SettingsError(f"{variables[urgency]}: {reason}") from error


#: An origin as a browser sends it: scheme, host, an optional port; no path, no wildcard.
_ORIGIN = re.compile(r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?", re.ASCII | re.IGNORECASE)


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Exact origins, comma-separated. A wildcard or a path is refused: a browser compares the
    origin exactly, and `*` would let any page read children's records with a stolen token."""
    origins: list[str] = []
    for raw in env.get(name, "").split(","):
        origin = raw.strip()
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise SettingsError(f"{name}: not an origin like https://console.example.org (no path, no *): {origin!r}")
        origins.append(origin.lower())
    return tuple(dict.fromkeys(origins))


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name}: not a whole number: {raw!r}") from error
    if not 0 < value < 65536:
        raise SettingsError(f"{name}: {value} is not a port number")
    return value


def _workers(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return 1
    if raw == "auto":
        return os.cpu_count() or 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise SettingsError(f"{name}: a number of processes from 1 to {MAX_WORKERS}, or auto, not {raw!r}")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float, *, low: float, high: float, off: bool = False) -> float:
    """A number of seconds within [low, high]; 0 too when `off` (the feature is switched off)."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingsError(f"{name}: a number of seconds, not {raw!r}") from error
    if off and value == 0:
        return 0.0
    if not low <= value <= high:
        raise SettingsError(f"{name}: between {low:g} and {high:g} seconds{' (or 0: off)' if off else ''}, not {raw}")
    return value


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise SettingsError(f"{name}: a whole number of days, 0 or more, not {raw!r}")
    return int(raw)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw not in {"on", "off", "true", "false", "1", "0"}:
        raise SettingsError(f"{name}: on or off, not {raw!r}")
    return raw in {"on", "true", "1"}


def _time_of_day(env: Mapping[str, str], name: str, default: dt.time) -> dt.time:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return dt.time.fromisoformat(raw)
    except ValueError as error:
        raise SettingsError(f"{name}: a time of day such as 02:00, not {raw!r}") from error
