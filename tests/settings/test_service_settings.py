"""Settings of the reference service: pub/sub follows the key-value store, limits, origins, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from hashigo.errors import ConfigError
from hashigo.settings import Settings, load_settings

STRONG = "q7Vb2-kL9xR4mZ8pT1wY6nC3fH5jD0sGa_eU"


def load(tmp_path: Path, **env: str) -> Settings:
    return load_settings(env, env_file=None, cwd=tmp_path)


def test_pubsub_is_in_process_with_the_embedded_store(tmp_path: Path) -> None:
    assert load(tmp_path).pubsub.url == "memory://"


def test_pubsub_follows_redis_so_every_instance_hears_events(tmp_path: Path) -> None:
    s = load(tmp_path, REDIS_URL="rediss://default:pw@example.upstash.io:6379")
    assert s.pubsub.url == s.kv.url
    assert s.origins["pubsub.url"].source == "derived"


def test_pubsub_url_can_be_set_apart_and_bad_ones_are_named(tmp_path: Path) -> None:
    assert load(tmp_path, PUBSUB_URL="redis://127.0.0.1:6380/1").pubsub.url == "redis://127.0.0.1:6380/1"
    with pytest.raises(ConfigError, match=r"PUBSUB_URL='nats://x' is not accepted; use memory://"):
        load(tmp_path, PUBSUB_URL="nats://x")


def test_platform_port_and_origins_lists(tmp_path: Path) -> None:
    s = load(tmp_path, PORT="10000", ALLOWED_ORIGINS="https://app.example.com, http://localhost:5173,")
    assert s.service.port == 10000
    assert s.service.allowed_origins == ("https://app.example.com", "http://localhost:5173")


def test_seed_style_token_settings(tmp_path: Path) -> None:
    s = load(tmp_path, JWT_ALGORITHM="EdDSA", ACCESS_TOKEN_TTL="600", JWT_LEEWAY="10")
    assert (s.auth.algorithm, s.auth.access_ttl_seconds, s.auth.leeway_seconds) == ("EdDSA", 600, 10)


@pytest.mark.parametrize(("env", "message"), [
    ({"JWT_ALGORITHM": "none"}, r"auth.algorithm \(from JWT_ALGORITHM\)"),
    ({"JWT_LEEWAY": "300"}, r"auth.leeway_seconds \(from JWT_LEEWAY\): Input should be less than or equal to 60"),
    ({"PORT": "http"}, r"HASHIGO_PORT='http' is not a whole number|PORT='http' is not a whole number"),
])
def test_bad_service_settings_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, **env)


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize(("secret", "message"), [
    ("changeme", "looks like a placeholder"),
    ("your-secret-key-here", "looks like a placeholder"),
    ("a" * 64, "looks like a placeholder"),
    ("Short-but-random-9f3K", "is 21 bytes; HASHIGO_ENV=.* needs at least 32 bytes"),
])
def test_weak_or_placeholder_secrets_are_refused_outside_development(
        tmp_path: Path, environment: str, secret: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, HASHIGO_ENV=environment, SECRET_KEY=secret)


def test_strong_secret_is_accepted_and_development_tolerates_a_short_one(tmp_path: Path) -> None:
    assert load(tmp_path, HASHIGO_ENV="production", SECRET_KEY=STRONG).security.environment == "production"
    assert load(tmp_path, SECRET_KEY="dev").security.secret_key.get_secret_value() == "dev"
