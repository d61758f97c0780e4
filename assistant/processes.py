"""The three processes of a one-machine deployment, described for the supervisor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from assistant.settings import PROJECT_ROOT, Settings
from assistant.supervisor import ProcessSpec
from assistant.training import rasa_env


def _app_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", ZHIBAN_DATA_DIR=str(settings.data_dir))
    return env


def _model_loaded(response: httpx.Response) -> bool:
    return response.status_code == 200 and bool(response.json().get("model_file"))


def process_specs(settings: Settings, model: Path, endpoints: Path, root: Path = PROJECT_ROOT) -> list[ProcessSpec]:
    """Action server first (Rasa calls it), then Rasa, then the public gateway; the phone last when SIP is on."""
    actions_env = _app_env(settings) | {"SANIC_HOST": "127.0.0.1"}  # rasa-sdk binds 0.0.0.0 unless told
    specs = [
        ProcessSpec(
            name="actions",
            command=[sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)],
            health_url=f"{settings.actions_url}/health",
            port=settings.actions_port,
            port_variable="ZHIBAN_ACTIONS_PORT",
            env=actions_env,
            cwd=root,
        ),
        ProcessSpec(
            name="rasa",
            command=[
                str(settings.rasa_python),
                "-m",
                "rasa",
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(root / "assistant" / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(settings.rasa_port),
                "--enable-api",
                "--auth-token",
                settings.rasa_token,
            ],
            health_url=f"{settings.rasa_url}/status?token={settings.rasa_token}",
            port=settings.rasa_port,
            port_variable="ZHIBAN_RASA_PORT",
            env=rasa_env(settings),
            cwd=root,
            healthy=_model_loaded,
        ),
        ProcessSpec(
            name="gateway",
            command=[
                sys.executable,
                "-m",
                "uvicorn",
                "channels.main:create_app",
                "--factory",
                "--host",
                settings.host,
                "--port",
                str(settings.gateway_port),
                "--no-access-log",
            ],
            health_url=f"http://127.0.0.1:{settings.gateway_port}/healthz",
            port=settings.gateway_port,
            port_variable="ZHIBAN_GATEWAY_PORT",
            env=_app_env(settings),
            cwd=root,
        ),
    ]
    if settings.sip_enabled:
        # the phone answers calls over SIP and talks to Rasa like the gateway does (see docs/voice.md)
        specs.append(
            ProcessSpec(
                name="phone",
                command=[sys.executable, "-m", "assistant.cli", "phone"],
                health_url=f"http://127.0.0.1:{settings.sip_health_port}/health",
                port=settings.sip_health_port,
                port_variable="ZHIBAN_SIP_HEALTH_PORT",
                env=_app_env(settings),
                cwd=root,
            )
        )
    return specs
