"""The real gateway app served by uvicorn on a free port, a fake Rasa behind it, and Debian's chromium driven by Playwright.

``gateway`` is the chat page's (package-wide, scripted Rasa); a module of staff pages starts its own ``staff_gateway``
(its store known to it: accounts, seeded rows, a small knowledge index). ``pages`` opens pages of either in fresh
browser contexts, ``Pages.signed_in`` / ``sign_in`` go through the login page.

The browser is the system one (``make system-deps`` installs it): ``playwright install`` needs the internet, which a
test machine may not have. axe-core comes from ``tests/web/node_modules`` (``make system-deps`` runs ``npm ci``).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from assistant.settings import Settings
from channels.main import create_app
from knowledge.service import ensure_index, reset_searchers
from tests.channels.fake_rasa import FakeRasa
from tests.utils.knowledge import copy_knowledge_base
from tests.utils.net import free_ports
from tests.utils.staff import StaffLogin, fast_hashing, make_staff

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
    requests: list[str] = field(default_factory=list)  # what the pages opened on it requested (see ``Pages``)


@dataclass(kw_only=True)
class StaffGateway(Gateway):
    """A gateway for the staff pages: its store holds only what its test module put there, and these two accounts."""

    admin: StaffLogin
    agent: StaffLogin


def gateway_settings(root: Path, *, knowledge: bool = False, **overrides: Any) -> Settings:
    """Test settings keeping their data under ``root``, on three free ports; ``knowledge``: a small copy of the knowledge
    base (社保卡申领/补换, 高龄津贴, a policy) instead of the bundled one."""
    if knowledge:
        overrides["kb_dir"] = copy_knowledge_base(root / "kb")
    ports = free_ports(3)
    return Settings(
        env="test",
        data_dir=root / "var",
        gateway_port=ports[0],
        rasa_port=ports[1],
        actions_port=ports[2],
        rasa_timeout=2.0,
        **overrides,
    )


@contextmanager
def serving(settings: Settings, rasa: FakeRasa) -> Iterator[Gateway]:
    """The real gateway app of ``settings``, talking to ``rasa``, served over HTTP by uvicorn in a thread."""
    app = create_app(settings, rasa_transport=rasa.transport())
    config = uvicorn.Config(app, host="127.0.0.1", port=settings.gateway_port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gateway-{settings.gateway_port}", daemon=True)
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


@contextmanager
def staff_gateway(
    root: Path,
    *,
    admin: str,
    agent: str,
    knowledge: bool = False,
    seed: Callable[[Settings], None] | None = None,
) -> Iterator[StaffGateway]:
    """A gateway served for a test module of staff pages, with a fake Rasa that answers 您好, an admin and an agent account
    of these usernames, what ``seed`` puts in the store, and with ``knowledge`` a small knowledge base indexed by the
    configured embedder (its searcher is dropped afterwards). Accounts use cheap password hashes while it runs."""
    settings = gateway_settings(root, knowledge=knowledge)
    with pytest.MonkeyPatch.context() as patch:
        fast_hashing(patch)  # every sign-in checks a hash: the real parameters cost ~0.1-0.5 s each
        if knowledge:
            ensure_index(settings)
        if seed is not None:
            seed(settings)
        admin_login = make_staff(settings, "admin", username=admin)
        agent_login = make_staff(settings, "agent", username=agent)
        try:
            with serving(settings, FakeRasa()) as served:
                yield StaffGateway(**vars(served), admin=admin_login, agent=agent_login)
        finally:
            if knowledge:
                reset_searchers()


@pytest.fixture(scope="package")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The gateway app of the chat page, really served over HTTP, talking to a scripted fake Rasa."""
    settings = gateway_settings(
        tmp_path_factory.mktemp("web"),
        tts_backends="espeak",  # 朗读 offline: never Microsoft's service
    )
    with serving(settings, FakeRasa(reply=scripted_reply)) as served:
        yield served


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


class Pages:
    """Opens pages of a gateway in fresh browser contexts (empty storage), each closed after the test.

    Every request a page makes is recorded in its gateway's ``requests``; any that leaves the test server is blocked.
    Script errors and refused loads fail the test: the pages must run cleanly under their own policy.
    """

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.contexts: list[Any] = []
        self.problems: list[str] = []

    def _console(self, message: Any) -> None:
        if message.type == "error" and "status of" not in message.text:  # API errors are tested on purpose
            self.problems.append(message.text)

    def open(
        self,
        gateway: Gateway,
        path: str = "/",
        *,
        width: int = 1280,
        height: int = 720,
        scale: float = 1,
        bypass_csp: bool = False,
        clipboard: bool = False,
        fake_clock: bool = False,
        timeout_ms: int = 10_000,
    ) -> Any:
        """``path`` in a ``width``×``height`` window (Playwright's default size) at ``scale``. ``bypass_csp`` only to inject
        axe-core; ``clipboard``: the page may read and write it; ``fake_clock``: timers run as usual until the test
        moves the clock on."""

        def route(route: Any) -> None:
            url = route.request.url
            gateway.requests.append(url)
            if url.startswith(gateway.url + "/"):
                route.continue_()
            else:
                route.abort()

        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            locale="zh-CN",
            base_url=gateway.url,
            bypass_csp=bypass_csp,
            permissions=["clipboard-read", "clipboard-write"] if clipboard else [],
        )
        context.set_default_timeout(timeout_ms)
        context.route("**/*", route)
        self.contexts.append(context)
        if fake_clock:
            context.clock.install()
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.goto(path)
        return page

    def signed_in(self, gateway: Gateway, login: StaffLogin, path: str, **options: Any) -> Any:
        """``path`` of a staff page as ``login``: signed out, the page sends the browser to the login page, which comes
        back to ``path`` once signed in. ``options`` as for ``open``."""
        page = self.open(gateway, path, **options)
        page.wait_for_url(f"{gateway.url}/staff/login.html?next={quote(path, safe='')}")
        sign_in(page, gateway, login, lands_on=path)
        return page


def sign_in(
    page: Any, gateway: Gateway, login: StaffLogin, *, password: str | None = None, lands_on: str | None = None
) -> None:
    """Fills in and submits the login form the page shows (with ``password`` instead of the account's, to get it
    wrong); with ``lands_on``, waits until the browser is on that path of the gateway."""
    page.get_by_label("用户名").fill(login.username)
    page.get_by_label("密码").fill(password or login.password)
    page.get_by_role("button", name="登录").click()
    if lands_on is not None:
        page.wait_for_url(gateway.url + lands_on)


@pytest.fixture
def pages(browser: Any) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    for context in opened.contexts:
        context.close()
    assert opened.problems == []


@pytest.fixture
def new_page(pages: Pages, gateway: Gateway, fake_rasa: FakeRasa) -> Callable[..., Any]:
    """Opens the chat page in a fresh browser context of the given viewport, once it has loaded."""
    gateway.requests.clear()

    def open_chat(width: int = 1024, height: int = 800, scale: float = 1, bypass_csp: bool = False) -> Any:
        page = pages.open(gateway, "/", width=width, height=height, scale=scale, bypass_csp=bypass_csp)
        page.wait_for_load_state("networkidle")
        return page

    return open_chat


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


def axe(page: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is (the page must allow the script: bypass_csp)."""
    page.add_script_tag(content=source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
