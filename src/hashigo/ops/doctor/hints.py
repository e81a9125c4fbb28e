"""One-line hints for failed checks (seed 003 §トラブルシューティング, made specific)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from hashigo.settings import Settings


def _redis_target(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.kv.url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def _pg_target(settings: Settings) -> tuple[str, int, str]:
    url = make_url(settings.database.url)
    return url.host or "127.0.0.1", url.port or 5432, url.username or "postgres"


def hint_for(check: str, detail: str, settings: Settings) -> str | None:
    text = detail.lower()
    refused = "refused" in text or "connect call failed" in text or "errno 111" in text
    timed_out = "no answer" in text or "timed out" in text or "timeout" in text
    dns = "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text
    if check == "kv":
        if settings.kv.url.startswith("sqlite://"):
            path = urlsplit(settings.kv.url).path
            return f"the embedded store at {path} is not writable or is locked; check its folder"
        host, port = _redis_target(settings)
        tls = "--tls " if settings.kv.url.startswith("rediss://") else ""
        if refused:
            return (f"connection refused at {host}:{port} — is redis-server running? "
                    f"`redis-cli {tls}-h {host} -p {port} ping`")
        if "auth" in text or "wrongpass" in text or "password" in text:
            return ("Redis rejected the credentials — check the password in REDIS_URL "
                    "(Upstash: the token is the password)")
        if "ssl" in text or "tls" in text or "record layer" in text:
            return ("TLS mismatch — Upstash and ElastiCache with in-transit encryption need rediss://, "
                    "a plain server redis://")
        if dns:
            return f"cannot resolve {host} — check the host in REDIS_URL"
        if timed_out:
            return (f"{host}:{port} did not answer in {settings.kv.timeout_seconds:g}s — check the security "
                    f"group/firewall, or raise KV_TIMEOUT")
        return f"`redis-cli {tls}-h {host} -p {port} ping` should answer PONG"
    if check == "database":
        if settings.database.url.startswith("sqlite"):
            return "the SQLite file is not writable or its folder is missing; check DATABASE_URL's path"
        host, port, user = _pg_target(settings)
        if refused:
            return (f"connection refused at {host}:{port} — is PostgreSQL running? `pg_isready -h {host} -p {port}`")
        if "password authentication failed" in text or "no pg_hba.conf entry" in text:
            return (f"PostgreSQL rejected user {user!r} — check the password in DATABASE_URL "
                    f"and pg_hba.conf / the IP allow-list")
        if "does not exist" in text:
            return (f"the database in DATABASE_URL does not exist — "
                    f"`createdb -h {host} -p {port} -U {user} <name>`")
        if dns:
            return f"cannot resolve {host} — check the host in DATABASE_URL"
        if timed_out:
            return (f"{host}:{port} did not answer — check the security group "
                    f"(Aurora/RDS allow 5432 from the app only) "
                    f"or the Supabase network restrictions")
        return f"`psql -h {host} -p {port} -U {user}` should connect"
    if check == "storage":
        if "nosuchbucket" in text or ("bucket" in text and "not exist" in text) or "containernotfound" in text:
            return "the bucket/container does not exist — create it (e.g. `aws s3 mb s3://<bucket>`) or fix the name"
        if "accessdenied" in text or "403" in text or "forbidden" in text or "signature" in text:
            return ("the store rejected the credentials — check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and that the "
                    "IAM policy allows s3:PutObject, s3:GetObject, s3:DeleteObject on the bucket")
        if refused or timed_out or dns:
            endpoint = settings.storage.endpoint_url or "the provider's endpoint"
            return f"cannot reach {endpoint} — check STORAGE_ENDPOINT_URL and the network"
        if settings.storage.url.startswith("file://"):
            return f"the folder {urlsplit(settings.storage.url).path} is not writable — check its permissions"
        return "check STORAGE_URL, the endpoint, region and credentials"
    if check == "disk":
        return "free some disk space, or move HASHIGO_DATA_DIR to a larger volume"
    return None
