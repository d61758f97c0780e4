"""The phone process: its place in `zhiban run`, its health check, `zhiban phone`."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from assistant.cli import main
from assistant.processes import process_specs
from assistant.settings import Settings
from tests.utils.net import free_ports
from voice.phone import server
from voice.phone.server import HealthServer, serve
from voice.phone.sip import CallStats


def test_zhiban_run_starts_the_phone_only_when_sip_is_enabled(settings: Settings, tmp_path: Path) -> None:
    model, endpoints = tmp_path / "model.tar.gz", tmp_path / "endpoints.yml"
    assert [s.name for s in process_specs(settings, model, endpoints)] == ["actions", "rasa", "gateway"]
    enabled = settings.model_copy(update={"sip_enabled": True, "sip_health_port": 5999})
    *_, phone = process_specs(enabled, model, endpoints)
    assert phone.name == "phone"
    assert phone.command[-3:] == ["-m", "assistant.cli", "phone"]
    assert phone.health_url == "http://127.0.0.1:5999/health"
    assert (phone.port, phone.port_variable) == (5999, "ZHIBAN_SIP_HEALTH_PORT")


def test_the_health_check_reports_the_calls() -> None:
    (port,) = free_ports(1)
    phone = SimpleNamespace(stats=CallStats(active=1, answered=3, refused=2))
    health = HealthServer(port, phone)  # type: ignore[arg-type]
    health.start()
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert response.json() == {"status": "ok", "active_calls": 1, "answered": 3, "refused": 2}
        assert httpx.get(f"http://127.0.0.1:{port}/other", timeout=5).status_code == 404
    finally:
        health.stop()


def test_the_phone_process_answers_its_health_check_and_stops_cleanly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_warm_up(services: Any) -> None:  # the speech models are not needed to answer SIP
        return None

    monkeypatch.setattr(server, "warm_up", no_warm_up)
    sip_port, health_port = free_ports(2)
    configured = settings.model_copy(update={"sip_port": sip_port, "sip_health_port": health_port})

    async def scenario() -> dict[str, Any]:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(configured, stop))
        url = f"http://127.0.0.1:{health_port}/health"
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(100):
                try:
                    body: dict[str, Any] = (await client.get(url)).json()
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("no health check")
        stop.set()
        await asyncio.wait_for(running, 20)
        return body

    assert asyncio.run(scenario())["status"] == "ok"
    # the SIP port is free again: the endpoint was destroyed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", sip_port))


def test_zhiban_phone_explains_a_taken_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (port,) = free_ports(1)
    monkeypatch.setenv("ZHIBAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZHIBAN_SIP_PORT", str(port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("127.0.0.1", port))
        assert main(["phone"]) == 1
    assert "电话服务无法启动" in capsys.readouterr().err
