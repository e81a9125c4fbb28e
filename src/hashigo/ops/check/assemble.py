"""Turn the rules file's `sources:` (and the app's own environment, where a source says nothing) into
source objects. Nothing connects here; a wrong URL or a malformed billing CSV is bad input (exit 4)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from hashigo.errors import ConfigError
from hashigo.ops.check.loading import CheckInputError
from hashigo.ops.check.rulefile import RulesFile, Sources
from hashigo.ops.check.sources.base import Reading, Sample, Source
from hashigo.ops.check.sources.billing import BillingSource, read_bill
from hashigo.ops.check.sources.objects import ObjectStoreSource
from hashigo.ops.check.sources.postgres import PostgresSource, SqliteSource
from hashigo.ops.check.sources.prometheus import PrometheusSource
from hashigo.ops.check.sources.redis import RedisSource
from hashigo.ops.check.sources.service import ServiceSource
from hashigo.settings import Settings, StorageSettings, load_settings
from hashigo.urls import normalise_database_url


class ValuesSource:
    """Numbers given in the rules file (`values:`) or with `--value`: what no source measures."""

    name = "values"
    target = "given values"
    timeout = request_timeout = 1.0

    def __init__(self, values: Mapping[str, float]) -> None:
        self.values = dict(values)
        self.provides: tuple[str, ...] = tuple(self.values)

    async def sample(self) -> Sample:
        return Sample([Reading(metric, value, self.name, "given") for metric, value in self.values.items()])

    async def close(self) -> None:
        return None


@dataclass
class Assembly:
    sources: list[Source] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Auto sources the environment does not configure, e.g. no REDIS_URL."""


class _Environment:
    """The app's own settings, loaded only when a source asks for them."""

    def __init__(self, environ: Mapping[str, str] | None, cwd: Path | None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.cwd = cwd
        self._settings: Settings | None = None

    def settings(self, overrides: Mapping[str, str] | None = None) -> Settings:
        if overrides:
            return self._load({**self.environ, **overrides})
        if self._settings is None:
            self._settings = self._load(self.environ)
        return self._settings

    def _load(self, environ: Mapping[str, str]) -> Settings:
        env_file = (self.cwd or Path.cwd()) / ".env"
        try:
            return load_settings(environ, env_file=env_file, cwd=self.cwd)
        except ConfigError as exc:
            raise CheckInputError([f"configuration: {exc}"]) from None


def assemble(rules: RulesFile, *, environ: Mapping[str, str] | None = None, cwd: Path | None = None,
             today: date | None = None) -> Assembly:
    env = _Environment(environ, cwd)
    found = Assembly()
    config = rules.sources
    try:
        _service(config, env, found)
        _database(config, env, found)
        _redis(config, env, found)
        _storage(config, env, found)
        if config.prometheus is not None:
            p = config.prometheus
            queries = {str(k): v for k, v in p.queries.items()}
            found.sources.append(PrometheusSource(p.url, window=p.window, selector=p.selector,
                                                  timeout_seconds=p.timeout_seconds, queries=queries,
                                                  exclude_routes=config.service.exclude_routes))
    except ValueError as exc:
        raise CheckInputError([f"sources: {exc}"]) from None
    if config.billing is not None:
        billing = config.billing
        if billing.csv is not None:
            bill = read_bill(billing.csv, today or date.today())
            found.sources.append(BillingSource(bill=bill, target=str(billing.csv)))
        else:
            found.sources.append(BillingSource(monthly_usd=billing.monthly_usd))
    if rules.values:
        found.sources.append(ValuesSource({str(k): v for k, v in rules.values.items()}))
    return found


def _service(config: Sources, env: _Environment, found: Assembly) -> None:
    service = config.service
    if not service.enabled:
        return
    url = service.url
    if url is None:
        listener = env.settings().service
        host = "127.0.0.1" if listener.host in {"0.0.0.0", "", "::"} else listener.host
        url = f"http://{host}:{listener.port}/metrics"
    found.sources.append(ServiceSource(url, sample_seconds=service.sample_seconds,
                                       timeout_seconds=service.timeout_seconds,
                                       exclude_routes=service.exclude_routes))


def _database(config: Sources, env: _Environment, found: Assembly) -> None:
    postgres = config.postgres
    if not postgres.enabled:
        return
    url = postgres.url or env.settings().database.url
    try:
        normalised = normalise_database_url(url, name="sources.postgres.url")
    except ConfigError as exc:
        raise CheckInputError([str(exc)]) from None
    if normalised.startswith("sqlite"):
        database = make_url(normalised).database or ""
        if database in {"", ":memory:"}:
            found.skipped.append("database: an in-memory SQLite database has nothing to measure")
            return
        found.sources.append(SqliteSource(Path(database), postgres.timeout_seconds))
        return
    queries = {str(k): v for k, v in postgres.queries.items()}
    found.sources.append(PostgresSource(url, timeout_seconds=postgres.timeout_seconds, queries=queries))


def _redis(config: Sources, env: _Environment, found: Assembly) -> None:
    redis = config.redis
    if not redis.enabled:
        return
    url = redis.url or env.settings().kv.url
    if not url.startswith(("redis://", "rediss://", "unix://")):
        found.skipped.append("redis: the key-value store is the embedded one (set REDIS_URL or sources.redis.url)")
        return
    found.sources.append(RedisSource(url, timeout_seconds=redis.timeout_seconds,
                                     sample_seconds=config.service.sample_seconds))


def _storage(config: Sources, env: _Environment, found: Assembly) -> None:
    storage = config.storage
    if not storage.enabled:
        return
    settings: StorageSettings = (env.settings({"STORAGE_URL": storage.url}) if storage.url else env.settings()).storage
    if settings.url.startswith("memory://"):
        found.skipped.append("storage: an in-memory store lives in the service's process; nothing to list from here")
        return
    found.sources.append(ObjectStoreSource(settings, timeout_seconds=storage.timeout_seconds))
