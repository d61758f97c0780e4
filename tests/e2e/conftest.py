"""The real stack, started once for the end-to-end conversation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"))
    running.start()
    yield running
    code = running.stop()
    assert code == 0, "\n".join(running.lines[-40:])
