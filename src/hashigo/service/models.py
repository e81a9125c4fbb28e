"""Every table of the reference service, imported so Alembic and tests see one metadata."""

from hashigo.service.auth.models import TokenFamily
from hashigo.service.users.models import User

__all__ = ["TokenFamily", "User"]
