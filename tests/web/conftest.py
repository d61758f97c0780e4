"""The real gateway app served by uvicorn on a free port, a fake Rasa behind it, and Debian's chromium driven by Playwright.

The browser is the system one (``make system-deps`` installs it): ``playwright install`` needs the internet, which a
test machine may not have. axe-core comes from ``tests/web/node_modules`` (``make system-deps`` runs ``npm ci``).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from assistant.settings import Settings
from channels.main import create_app
from tests.channels.fake_rasa import FakeRasa
from tests.utils.net import free_ports

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

CITATION_LOST = {"item_code": "P02", "item_name": "社会保障卡补换", "section": "办理流程"}
CITATION_MATERIALS = {"item_code": "P02", "item_name": "社会保障卡补换", "section": "申请材料"}
LOST_STEPS = [
    "先拨打12333或到银行网点办理挂失",
    "带身份证原件到任一社保卡服务网点申请补卡",
    "现场缴纳工本费20元，约7个工作日后领卡",
]
MATERIALS = ["本人有效身份证件原件", "近期一寸白底免冠彩色照片1张", "银行卡（用于金融账户激活，可选）"]


def scripted_reply(sender: str, text: str) -> list[dict[str, Any]]:
    """What a trained assistant answers, in the shapes the actions send (see actions/replies.py)."""
    if "丢" in text:  # an answer: title, text repeating the lines and the source, items, citations
        lines = "\n".join(f"{i}. {line}" for i, line in enumerate(LOST_STEPS, 1))
        return [
            {
                "recipient_id": sender,
                "custom": {
                    "type": "answer",
                    "title": "【社会保障卡补换】办理流程",
                    "text": f"社保卡丢失后这样补办：\n{lines}\n来源：社会保障卡补换 · 办理流程",
                    "items": LOST_STEPS,
                    "citations": [CITATION_LOST],
                    "item_code": "P02",
                },
            }
        ]
    if text == "社保卡":  # too vague: a clarification with buttons
        return [
            {
                "recipient_id": sender,
                "text": "您想办理社保卡的哪一项业务？",
                "buttons": [
                    {"title": "社会保障卡申领", "payload": '/choose_item{"item_code":"P01"}'},
                    {"title": "社会保障卡补换", "payload": '/choose_item{"item_code":"P02"}'},
                ],
            }
        ]
    if text.startswith("/choose_item"):  # the chosen item's checklist, with a download link
        lines = "\n".join(f"{i}. {line}" for i, line in enumerate(MATERIALS, 1))
        return [
            {
                "recipient_id": sender,
                "custom": {
                    "type": "checklist",
                    "title": "【社会保障卡补换】您需要准备的材料",
                    "text": f"【社会保障卡补换】需要准备以下材料（共3项），请一次备齐：\n{lines}\n来源：社会保障卡补换 · 申请材料",
                    "items": MATERIALS,
                    "citations": [CITATION_MATERIALS],
                    "item_code": "P02",
                    "links": [{"title": "下载申请表（示例）", "url": "/static/chat.css"}],
                },
            },
            {
                "recipient_id": sender,
                "text": "还有其他问题吗？",
                "buttons": [{"title": "转人工", "payload": "/handoff"}],
            },
        ]
    return [{"recipient_id": sender, "text": "您好，请问您想办理什么业务？"}]


@dataclass
class Gateway:
    url: str
    rasa: FakeRasa
    settings: Settings
    app: Any  # the FastAPI app being served (tests may override its dependencies)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="package")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway app, really served over HTTP, talking to a scripted fake Rasa."""
    data = tmp_path_factory.mktemp("web")
    ports = free_ports(3)
    settings = Settings(
        env="test",
        data_dir=data / "var",
        gateway_port=ports[0],
        rasa_port=ports[1],
        actions_port=ports[2],
        rasa_timeout=2.0,
        tts_backends="espeak",  # 朗读 offline: never Microsoft's service
    )
    rasa = FakeRasa(reply=scripted_reply)
    app = create_app(settings, rasa_transport=rasa.transport())
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.gateway_port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the gateway did not start")
        time.sleep(0.05)
    try:
        yield Gateway(url=f"http://127.0.0.1:{settings.gateway_port}", rasa=rasa, settings=settings, app=app)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def fake_rasa(gateway: Gateway) -> Iterator[FakeRasa]:
    """The gateway's fake Rasa, reset for each test."""
    gateway.rasa.received.clear()
    gateway.rasa.reply = scripted_reply
    gateway.rasa.rasa_status = 200
    gateway.rasa.actions_up = True
    yield gateway.rasa
    gateway.rasa.reply = scripted_reply
    gateway.rasa.rasa_status = 200


@pytest.fixture(scope="package")
def playwright() -> Iterator[Any]:
    """Playwright's sync API runs an event loop in this thread while it is open: it is closed after tests/web, or the
    asyncio.run() of later tests would fail. One instance for the package: a second one cannot start beside it."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (make system-deps)")
    with playwright_sync.sync_playwright() as pw:
        yield pw


def launch_chromium(playwright: Any, extra_args: list[str] | None = None) -> Any:
    """Debian's chromium with the test arguments (and ``extra_args``, e.g. a fake microphone)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + (extra_args or []), headless=True
    )


@pytest.fixture(scope="package")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def new_page(browser: Any, gateway: Gateway, fake_rasa: FakeRasa) -> Iterator[Any]:
    """Opens the chat page in a fresh browser context (empty storage) of the given viewport.

    Every request the page makes is recorded in ``gateway.requests``; any that leaves the test server is blocked.
    """
    contexts: list[Any] = []
    problems: list[str] = []  # script errors and refused loads: the page must run cleanly under its own policy
    gateway.requests.clear()

    def console(message: Any) -> None:
        if message.type == "error" and "status of" not in message.text:  # API errors are tested on purpose
            problems.append(message.text)

    def route(route: Any) -> None:
        url = route.request.url
        gateway.requests.append(url)
        if url.startswith(gateway.url + "/"):
            route.continue_()
        else:
            route.abort()

    def open_page(width: int = 1024, height: int = 800, scale: float = 1, bypass_csp: bool = False) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            locale="zh-CN",
            base_url=gateway.url,
            bypass_csp=bypass_csp,  # only to inject axe-core; the page itself runs under its policy
        )
        context.set_default_timeout(10_000)
        context.route("**/*", route)
        contexts.append(context)
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto("/")
        page.wait_for_load_state("networkidle")
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems == []


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


@pytest.fixture(scope="package")
def axe_source() -> str:
    if not AXE_JS.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is missing: run make system-deps")
        pytest.fail(f"{AXE_JS} is missing: run make system-deps (npm ci in tests/web)")
    return AXE_JS.read_text(encoding="utf-8")
