"""`zhiban doctor`: checks what the assistant needs and says what to do about each problem."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from assistant.settings import Settings
from assistant.supervisor import port_is_free
from assistant.training import model_fingerprint, model_path
from knowledge.corpus import CorpusError, load_corpus
from knowledge.index import IndexError_, check_manifest, read_manifest
from knowledge.service import index_dir_for


@dataclass(frozen=True)
class Check:
    """The outcome of one check: a name, whether it passed, what was found and what to do if it failed."""

    name: str
    ok: bool
    found: str
    advice: str = ""


def check_rasa_python(settings: Settings) -> Check:
    name = "Rasa 环境 (Python 3.10, rasa 3.6.21)"
    if not settings.rasa_python.exists():
        return Check(name, False, f"{settings.rasa_python} 不存在", "运行 `make setup`（需要 python3.10）")
    probe = subprocess.run(
        [
            str(settings.rasa_python),
            "-c",
            "import sys, importlib.metadata as m; print(sys.version.split()[0], m.version('rasa'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return Check(name, False, "rasa 未安装或无法导入", "运行 `make setup` 重新创建 .venv-rasa")
    return Check(name, True, probe.stdout.strip())


def check_ports(settings: Settings) -> list[Check]:
    ports = {
        "ZHIBAN_GATEWAY_PORT": settings.gateway_port,
        "ZHIBAN_RASA_PORT": settings.rasa_port,
        "ZHIBAN_ACTIONS_PORT": settings.actions_port,
    }
    return [
        Check(
            f"端口 {port} ({variable})",
            port_is_free(port),
            "空闲" if port_is_free(port) else "已被占用",
            f"停止占用该端口的程序，或设置 {variable}",
        )
        for variable, port in ports.items()
    ]


def check_model(settings: Settings) -> Check:
    path = model_path(settings, model_fingerprint())
    if path.exists():
        return Check("Rasa 模型", True, f"{path.name} 与训练数据一致")
    return Check(
        "Rasa 模型", False, "没有与当前训练数据和配置一致的模型", "运行 `zhiban train`（`make run` 会自动训练）"
    )


def check_index(settings: Settings) -> Check:
    name = "知识库索引"
    try:
        corpus = load_corpus(settings.knowledge_dir)
    except CorpusError as exc:
        return Check(
            name, False, f"知识库有 {len(exc.problems)} 个问题", "运行 `zhiban kb check` 查看每个问题的文件和字段"
        )
    try:
        check_manifest(read_manifest(index_dir_for(settings)), corpus, settings.embedder)
    except IndexError_ as exc:
        return Check(name, False, str(exc), "运行 `zhiban kb build`（`make run` 会自动重建）")
    return Check(name, True, f"与知识库一致（{settings.embedder}）")


def check_database(label: str, url: str) -> Check:
    try:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        return Check(label, False, f"无法连接: {type(exc).__name__}", "检查数据库地址、账号和网络，或改用默认的 SQLite")
    return Check(label, True, "可以连接")


def run_checks(settings: Settings) -> list[Check]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    checks: list[Callable[[], list[Check]]] = [
        lambda: [check_rasa_python(settings)],
        lambda: check_ports(settings),
        lambda: [check_model(settings)],
        lambda: [check_index(settings)],
        lambda: [check_database("业务数据库 (ZHIBAN_DATABASE_URL)", settings.app_database_url)],
        lambda: [check_database("对话记录库 (ZHIBAN_TRACKER_STORE_URL)", settings.rasa_tracker_url)],
    ]
    return [result for check in checks for result in check()]


def format_checks(results: list[Check]) -> str:
    lines = []
    for result in results:
        mark = "✓" if result.ok else "✗"
        lines.append(f"{mark} {result.name}: {result.found}")
        if not result.ok and result.advice:
            lines.append(f"    → {result.advice}")
    return "\n".join(lines)
