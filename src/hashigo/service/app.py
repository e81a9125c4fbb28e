"""The FastAPI application: wiring only. Each domain owns its routes and services.

    uvicorn --factory hashigo.service.app:create_app

Nothing connects at import time or in ``create_app``; backends are reached on first use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from hashigo import __version__
from hashigo.runtime import Runtime
from hashigo.service.auth import routes as auth_routes
from hashigo.service.auth.codec import codec_for
from hashigo.service.files import routes as files_routes
from hashigo.service.health import routes as health_routes
from hashigo.service.kit.errors import install_error_handlers
from hashigo.service.kit.instrumented import instrument_runtime
from hashigo.service.kit.logging import configure_logging
from hashigo.service.kit.observability import ObservabilityMiddleware
from hashigo.service.realtime import hub as realtime_hub
from hashigo.service.realtime import routes as realtime_routes
from hashigo.service.sessions import routes as sessions_routes
from hashigo.service.users import routes as users_routes
from hashigo.settings import Settings, load_settings

API_V1 = "/api/v1"


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. With ``runtime`` given, the caller owns it (tests); otherwise the app
    opens one from ``settings`` (default: the environment) and closes it on shutdown."""
    settings = runtime.settings if runtime is not None else settings or load_settings()
    codec_for(settings)  # unusable JWT keys fail here (ConfigError), not at the first login
    owned_runtime = runtime is None
    active = runtime or Runtime.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if owned_runtime:
                stack.push_async_callback(active.aclose)
            for start in app.state.on_startup:
                await stack.enter_async_context(start(app))
            yield

    app = FastAPI(
        title="hashigo reference service",
        version=__version__,
        description="Own-JWT auth, users, sessions with files, realtime events, health and metrics — "
                    "built only on hashigo's runtime ports.",
        lifespan=lifespan,
    )
    configure_logging(settings.service)
    # Routes see the same backends wrapped so each call is timed for /metrics.
    app.state.runtime = instrument_runtime(active)
    app.state.settings = settings
    # Domains append async context managers here (e.g. the realtime hub's listener task).
    app.state.on_startup = []
    realtime_hub.install(app)
    install_error_handlers(app, settings.service.retry_after_seconds)

    v1 = APIRouter(prefix=API_V1)
    v1.include_router(auth_routes.router, prefix="/auth", tags=["auth"])
    v1.include_router(users_routes.router, prefix="/users", tags=["users"])
    v1.include_router(sessions_routes.router, prefix="/sessions", tags=["sessions"])
    v1.include_router(files_routes.router, prefix="/files", tags=["files"])
    v1.include_router(realtime_routes.router, tags=["realtime"])
    app.include_router(v1)
    app.include_router(health_routes.router, tags=["operations"])
    # Added last, so it is the outermost of our middleware: it sees every request and response.
    app.add_middleware(ObservabilityMiddleware)
    return app
