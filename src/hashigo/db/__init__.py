"""The database port: an async SQLAlchemy engine for SQLite or PostgreSQL, and Alembic."""

from hashigo.db.engine import create_engine, database_version, session_factory
from hashigo.db.models import Base

__all__ = ["Base", "create_engine", "database_version", "session_factory"]
