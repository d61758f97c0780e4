from __future__ import annotations

import socket
from pathlib import Path

from assistant.doctor import check_database, check_index, check_model, check_ports, format_checks, run_checks
from assistant.settings import Settings


def test_fresh_data_directory_needs_training_and_an_index(settings: Settings) -> None:
    assert not check_model(settings).ok
    index = check_index(settings)
    assert not index.ok and "zhiban kb build" in index.advice


def test_taken_port_is_reported_with_its_variable(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", settings.rasa_port))
        taken.listen(1)
        results = {r.name: r for r in check_ports(settings)}
    rasa = next(r for name, r in results.items() if "ZHIBAN_RASA_PORT" in name)
    assert not rasa.ok and "ZHIBAN_RASA_PORT" in rasa.advice


def test_unreachable_database(tmp_path: Path) -> None:
    assert check_database("db", f"sqlite:///{tmp_path / 'ok.db'}").ok
    bad = check_database("db", f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    assert not bad.ok and "无法连接" in bad.found


def test_report_marks_each_check(settings: Settings) -> None:
    text = format_checks(run_checks(settings))
    assert "✓" in text and "✗" in text and "→" in text
