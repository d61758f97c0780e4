"""The ``zhiban`` command line: run, train and check the assistant.

Errors are translated into a one-paragraph message and exit status 1 here, at the edge; everything below raises.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from assistant import staff
from assistant.crypto import generate_key
from assistant.doctor import format_checks, run_checks
from assistant.endpoints import write_endpoints
from assistant.processes import process_specs
from assistant.settings import Settings, SettingsError, get_settings
from assistant.supervisor import Printer, Supervisor, SupervisorError
from assistant.training import TrainingError, ensure_model
from knowledge.answer import answer
from knowledge.corpus import BUNDLED_KB, CorpusError, load_corpus
from knowledge.embedders import EmbedderError
from knowledge.evaluate import EvalSetError, evaluate, format_report, load_questions
from knowledge.importer import ImportProblems, Mapping, import_sheet
from knowledge.index import IndexError_
from knowledge.service import ensure_index, get_searcher

log = logging.getLogger("zhiban")


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    printer = Printer(sys.stdout)
    model = ensure_model(settings, force=args.force, on_line=lambda line: printer.line("train", line))
    print(f"模型: {model}")
    return 0


def cmd_keygen(settings: Settings, args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    results = run_checks(settings)
    print(format_checks(results))
    return 0 if all(r.ok for r in results) else 1


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    printer = Printer(sys.stdout)
    # The index first: it also refreshes the jieba dictionary that is part of the Rasa model.
    index, built = ensure_index(settings, update_nlu=True)
    printer.line(
        "kb", f"知识库索引{'已重建' if built else '已是最新'}: {len(index.passages)} 个段落 ({index.manifest.embedder})"
    )
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


def cmd_kb_build(settings: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    index, built = ensure_index(settings, args.kb, force=args.force, update_nlu=True)
    manifest = index.manifest
    state = "已重建" if built else "已是最新，无需重建"
    print(
        f"知识库索引{state}: {len(index.passages)} 个段落, 向量模型 {manifest.embedder} ({manifest.dimension} 维, "
        f"{manifest.dense_index}), 复用向量 {manifest.reused_embeddings} 个, 用时 {time.perf_counter() - started:.1f} 秒"
    )
    return 0


def cmd_kb_search(settings: Settings, args: argparse.Namespace) -> int:
    searcher = get_searcher(settings, args.kb)
    result = searcher.search(args.query, k=args.k)
    if result.reason:
        print(f"没有可检索的内容 ({result.reason})")
        return 1
    print(f"检索: {result.text}  方面: {', '.join(result.aspects) or '概述'}  置信度: {result.confidence:.2f}")
    for rank, candidate in enumerate(result.candidates, 1):
        print(
            f"{rank}. {candidate.name} [{candidate.code}] {candidate.score:.4f}{' (点名)' if candidate.named else ''}"
        )
    for hit in result.hits:
        print(f"   · {hit.citation.item_name} · {hit.citation.section}: {hit.passage.text[:80]}")
    return 0


def cmd_kb_answer(settings: Settings, args: argparse.Namespace) -> int:
    reply = answer(get_searcher(settings, args.kb), args.query, threshold=settings.answer_threshold)
    if reply.status == "answered":
        print(reply.text)
        for citation in reply.citations:
            when = f"，{citation.updated_at}" if citation.updated_at else ""
            print(f"—— 来源：{citation.item_name} · {citation.section}（{citation.source}{when}）")
    elif reply.status == "clarify":
        print("您想问的是：" + " / ".join(c.name for c in reply.candidates))
    else:
        print(f"知识库中没有找到相关内容 ({reply.reason})")
    return 0


def cmd_kb_eval(settings: Settings, args: argparse.Namespace) -> int:
    searcher = get_searcher(settings, args.kb)
    # expected_item names a guide or policy; expected_id names an imported row
    names = searcher.codes_by_name | {faq.id: faq.id for faq in searcher.index.corpus.faqs}
    report = evaluate(searcher, load_questions(args.file, names))
    if args.json:
        data = report.as_dict()
        if not args.misses:
            data.pop("misses")
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_report(report))
        if args.misses:
            for miss in report.misses:
                print(f"  line {miss['line']}: {miss['question']} → expected {miss['expected']}, got {miss['got']}")
    return 0


def cmd_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    mapping = Mapping(
        question=args.question, answer=args.answer, id=args.id, title=args.title,
        department=args.department, similar=args.similar,
    )  # fmt: skip
    result = import_sheet(args.file, args.kb, mapping, name=args.name)
    print(f"已导入 {result.rows} 条到 {result.path}")
    index, _ = ensure_index(settings, args.kb)
    print(f"索引已更新: {len(index.passages)} 个段落")
    return 0


# --- staff accounts ---------------------------------------------------------------------------------------------------
def _new_password(username: str) -> str:
    """The new password: ``ZHIBAN_NEW_STAFF_PASSWORD`` (for scripts) or typed twice without echo."""
    from_env = os.environ.get("ZHIBAN_NEW_STAFF_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise staff.InvalidAccount("没有终端可以输入密码；脚本请用环境变量 ZHIBAN_NEW_STAFF_PASSWORD 传入。")
    first = getpass.getpass(f"{username} 的新密码（至少{staff.MIN_PASSWORD_CHARS}个字符，至少两类字符）: ")
    problem = staff.password_problem(first, username)
    if problem:
        raise staff.InvalidAccount(problem)
    if getpass.getpass("再输入一次: ") != first:
        raise staff.InvalidAccount("两次输入的密码不一致，没有修改。")
    return first


def cmd_staff_add(settings: Settings, args: argparse.Namespace) -> int:
    problem = staff.username_problem(args.username)
    if problem:
        raise staff.InvalidAccount(problem)
    account = staff.create_user(
        settings, args.username, _new_password(args.username), role=args.role, display_name=args.name or ""
    )
    print(f"已创建{staff.ROLES[account.role]}账号 {account.username}（{account.display_name}）。")
    return 0


def cmd_staff_passwd(settings: Settings, args: argparse.Namespace) -> int:
    staff.get_user(settings, args.username)  # an unknown name is reported before asking for a password
    account = staff.set_password(settings, args.username, _new_password(args.username))
    print(f"已修改 {account.username} 的密码，并解除锁定；该账号原有的登录已全部失效。")
    return 0


def cmd_staff_disable(settings: Settings, args: argparse.Namespace) -> int:
    account = staff.deactivate(settings, args.username)
    print(f"已停用 {account.username}，该账号原有的登录已全部失效。")
    return 0


def cmd_staff_list(settings: Settings, args: argparse.Namespace) -> int:
    accounts = staff.list_users(settings)
    if not accounts:
        print("还没有工作人员账号。创建第一个管理员: zhiban staff add <用户名> --role admin")
        return 0
    for a in accounts:
        state = "停用" if not a.active else ("锁定" if a.locked_until else "启用")
        last = f"{a.last_login_at:%Y-%m-%d %H:%M}" if a.last_login_at else "从未登录"
        print(f"{a.username:<20} {staff.ROLES[a.role]:<4} {state:<3} {last:<16} {a.display_name}")
    return 0


def cmd_phone(settings: Settings, args: argparse.Namespace) -> int:
    # imported here: pjsua2 and the speech models are only needed by the phone process
    import asyncio

    from voice.phone.server import serve
    from voice.phone.sip import SipError

    try:
        asyncio.run(serve(settings))
    except SipError as exc:
        print(f"电话服务无法启动: {exc}。请检查 ZHIBAN_SIP_HOST 和 ZHIBAN_SIP_PORT。", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"电话服务无法启动: {exc}。请用 ZHIBAN_SIP_HEALTH_PORT 换一个健康检查端口。", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zhiban", description="智办 政务服务智能助手")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="训练（如需要）并启动 Rasa、动作服务和网关").set_defaults(func=cmd_run)
    train = sub.add_parser("train", help="训练数据或配置变化时训练 Rasa 模型")
    train.add_argument("--force", action="store_true", help="即使模型是最新的也重新训练")
    train.set_defaults(func=cmd_train)
    sub.add_parser("doctor", help="检查运行环境并给出处理建议").set_defaults(func=cmd_doctor)
    sub.add_parser("keygen", help="生成一个新的个人数据加密密钥（用于 ZHIBAN_DATA_KEY）").set_defaults(func=cmd_keygen)
    sub.add_parser("phone", help="接听电话（SIP）: 问候、听、回答，直到 Ctrl-C").set_defaults(func=cmd_phone)
    kb = sub.add_parser("kb", help="知识库: 校验、建索引、检索、导入、评测").add_subparsers(
        dest="kb_command", required=True
    )
    check = kb.add_parser("check", help="校验知识库的每个文件，列出所有问题")
    check.add_argument("--kb", type=Path, default=BUNDLED_KB, help="知识库目录（默认: 内置示例知识库）")
    check.set_defaults(func=cmd_kb_check)
    build = kb.add_parser("build", help="知识库有变化时重建检索索引（只重新计算变化段落的向量）")
    build.add_argument("--kb", type=Path, default=None, help="知识库目录（默认: ZHIBAN_KB_DIR 或内置示例知识库）")
    build.add_argument("--force", action="store_true", help="即使索引是最新的也重建")
    build.set_defaults(func=cmd_kb_build)
    search = kb.add_parser("search", help="检索知识库，显示候选事项和段落")
    search.add_argument("query")
    search.add_argument("--kb", type=Path, default=None)
    search.add_argument("-k", type=int, default=5)
    search.set_defaults(func=cmd_kb_search)
    ask = kb.add_parser("answer", help="按知识库回答一个问题（带出处）")
    ask.add_argument("query")
    ask.add_argument("--kb", type=Path, default=None)
    ask.set_defaults(func=cmd_kb_answer)
    sheet = kb.add_parser("import", help="导入知识表格（.xlsx/.csv/.jsonl），全部通过校验才写入")
    sheet.add_argument("file", type=Path)
    sheet.add_argument("--kb", type=Path, required=True, help="导入到哪个知识库目录（可以是新目录）")
    sheet.add_argument("--name", help="导入后的表名（默认: 文件名）；同名再次导入会整体替换")
    for column, label in [
        ("question", "问题"), ("answer", "答案"), ("id", "编号"), ("title", "标题"),
        ("department", "部门"), ("similar", "相似问法"),
    ]:  # fmt: skip
        sheet.add_argument(f"--{column}", help=f"{label}所在的列（表头名或从1开始的列号；默认按表头识别）")
    sheet.set_defaults(func=cmd_kb_import)
    evaluation = kb.add_parser("eval", help="评测检索质量: recall@1/5、MRR@10、时延")
    evaluation.add_argument("file", type=Path, help="JSON Lines: question + expected_item 或 expected_id [+ aspect]")
    evaluation.add_argument("--kb", type=Path, default=None)
    evaluation.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    evaluation.add_argument("--misses", action="store_true", help="列出排名第一不正确的问题")
    evaluation.set_defaults(func=cmd_kb_eval)
    accounts = sub.add_parser("staff", help="工作人员账号: 新建、改密码、停用、列表").add_subparsers(
        dest="staff_command", required=True
    )
    add = accounts.add_parser("add", help="新建账号（密码输入两次，或取自 ZHIBAN_NEW_STAFF_PASSWORD）")
    add.add_argument("username", help="用户名：3到32位小写字母、数字或 _ . -")
    add.add_argument("--role", choices=sorted(staff.ROLES), required=True, help="agent 工作人员 / admin 管理员")
    add.add_argument("--name", help="显示名（姓名），默认同用户名")
    add.set_defaults(func=cmd_staff_add)
    passwd = accounts.add_parser("passwd", help="重设密码（同时解除锁定、让原有登录失效）")
    passwd.add_argument("username")
    passwd.set_defaults(func=cmd_staff_passwd)
    disable = accounts.add_parser("disable", help="停用账号（原有登录立即失效）")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_staff_disable)
    accounts.add_parser("list", help="列出全部账号").set_defaults(func=cmd_staff_list)
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
    except (
        TrainingError, SupervisorError, CorpusError, IndexError_, EmbedderError, EvalSetError, ImportProblems
    ) as exc:  # fmt: skip
        print(f"\n{exc}", file=sys.stderr)
        return 1
    except staff.StaffError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
