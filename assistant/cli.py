"""The ``zhiban`` command line: run, train and check the assistant.

Errors are translated into a one-paragraph message and exit status 1 here, at the edge; everything below raises.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from assistant.doctor import format_checks, run_checks
from assistant.endpoints import write_endpoints
from assistant.processes import process_specs
from assistant.settings import Settings, SettingsError, get_settings
from assistant.supervisor import Printer, Supervisor, SupervisorError
from assistant.training import TrainingError, ensure_model
from knowledge.corpus import BUNDLED_KB, CorpusError, load_corpus

log = logging.getLogger("zhiban")


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    printer = Printer(sys.stdout)
    model = ensure_model(settings, force=args.force, on_line=lambda line: printer.line("train", line))
    print(f"模型: {model}")
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    results = run_checks(settings)
    print(format_checks(results))
    return 0 if all(r.ok for r in results) else 1


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    printer = Printer(sys.stdout)
    model = ensure_model(settings, on_line=lambda line: printer.line("train", line))
    endpoints = write_endpoints(settings)
    supervisor = Supervisor(
        process_specs(settings, model, endpoints), sys.stdout, startup_timeout=settings.startup_timeout
    )

    def request_stop(signum: int, frame: FrameType | None) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        supervisor.start_all()
    except KeyboardInterrupt:
        print("已停止。")
        return 130
    print(
        f"\n智办已就绪:\n  网页对话   {settings.gateway_url}/\n  接口文档   {settings.gateway_url}/docs\n"
        "按 Ctrl-C 停止。\n",
        flush=True,
    )
    dead = supervisor.watch()
    supervisor.stop_all()
    if dead is not None:
        tail = "\n".join(f"  {line}" for line in dead.tail) or "  (no output)"
        print(
            f"\n{dead.spec.name} 意外退出 (exit {dead.returncode})，已停止其他进程。最后的输出:\n{tail}",
            file=sys.stderr,
        )
        return 1
    print("已停止。")
    return 0


def cmd_kb_check(settings: Settings, args: argparse.Namespace) -> int:
    corpus = load_corpus(args.kb)
    print(
        f"知识库 {corpus.root}: {len(corpus.items)} 个事项, {len(corpus.bundles)} 个一件事, "
        f"{len(corpus.policies)} 份政策 — 全部通过校验"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhiban", description="智办 政务服务智能助手")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="训练（如需要）并启动 Rasa、动作服务和网关").set_defaults(func=cmd_run)
    train = sub.add_parser("train", help="训练数据或配置变化时训练 Rasa 模型")
    train.add_argument("--force", action="store_true", help="即使模型是最新的也重新训练")
    train.set_defaults(func=cmd_train)
    sub.add_parser("doctor", help="检查运行环境并给出处理建议").set_defaults(func=cmd_doctor)
    kb = sub.add_parser("kb", help="知识库: 校验、建索引、检索、导入、评测").add_subparsers(
        dest="kb_command", required=True
    )
    check = kb.add_parser("check", help="校验知识库的每个文件，列出所有问题")
    check.add_argument("--kb", type=Path, default=BUNDLED_KB, help="知识库目录（默认: 内置示例知识库）")
    check.set_defaults(func=cmd_kb_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"配置错误 — {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # health polling would flood the console
    try:
        code: int = args.func(settings, args)
    except (TrainingError, SupervisorError, CorpusError) as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
