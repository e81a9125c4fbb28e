"""Routes of the realtime domain: the WebSocket at ``/api/v1/ws`` (protocol: service.py, schemas.py)."""

from fastapi import APIRouter

from hashigo.service.realtime.service import serve_socket

router = APIRouter()
# A plain Starlette WebSocket route rather than ``@router.websocket``: the endpoint needs no
# dependency injection, and FastAPI's keeps two exit stacks and their frames alive for the
# socket's whole life (~4.7 KiB per idle connection, bench/websocket_idle.py).
router.add_websocket_route("/ws", serve_socket, name="realtime_socket")
