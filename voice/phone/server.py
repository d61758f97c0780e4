"""The phone process (`zhiban phone`, or the fourth process of `zhiban run` when ``sip_enabled``).

Runs the SIP endpoint until SIGINT or SIGTERM, and a health check on loopback
(``http://127.0.0.1:<sip_health_port>/health`` → 200 ``{"status": "ok", "active_calls", "answered", "refused"}``) that the
supervisor waits for. On a stop signal every call is hung up (the dialogues release their calls) and the endpoint is
destroyed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistant.settings import Settings
from channels.rasa_client import RasaClient
from voice.phone.services import build_services, warm_up
from voice.phone.sip import SipPhone

log = logging.getLogger(__name__)


class HealthServer:
    """A tiny loopback HTTP server answering ``GET /health`` with the phone's state."""

    def __init__(self, port: int, phone: SipPhone) -> None:
        phone_ref = phone

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/health":
                    self.send_error(404)
                    return
                stats = phone_ref.stats
                body = json.dumps(
                    {"status": "ok", "active_calls": stats.active, "answered": stats.answered, "refused": stats.refused}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # health polling would flood the log
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="phone-health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Answer calls until ``stop`` is set (default: until SIGINT or SIGTERM).

    Raises:
        SipError: the SIP endpoint could not start.
        OSError: the health port is taken.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rasa = RasaClient(settings.rasa_url, settings.actions_url, timeout=settings.rasa_timeout, token=settings.rasa_token)
    services = build_services(settings, rasa)
    phone = SipPhone(settings, services)
    await phone.start()
    health: HealthServer | None = None
    try:
        health = HealthServer(settings.sip_health_port, phone)
        health.start()
        warming = asyncio.create_task(warm_up(services))
        log.info(
            "phone ready: sip:zhiban@%s:%d (%d Hz, at most %d calls)",
            settings.sip_public_address or settings.sip_host, settings.sip_port, settings.sip_rate,
            settings.sip_max_calls,
        )  # fmt: skip
        await stop.wait()
        warming.cancel()
    finally:
        log.info("phone stopping: hanging up %d calls", phone.stats.active)
        if health is not None:
            health.stop()
        await phone.stop()
        await rasa.aclose()
