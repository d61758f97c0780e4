"""Loading a knowledge-base directory: all files validated, all problems reported, nothing half-loaded.

A knowledge base is a directory with ``items/*.yml``, ``bundles/*.yml``, ``policies/*.yml``, ``faq/*.jsonl`` (sheets
imported by `zhiban kb import`) and optionally ``city.yml`` (shared facts); any of them may be absent. :func:`load_corpus` either returns a complete :class:`Corpus` or raises
:class:`CorpusError` listing every problem with its file and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.models import Bundle, FaqEntry, Policy, ServiceItem

#: The knowledge base shipped with the project (sample data of 示例市).
BUNDLED_KB = Path(__file__).resolve().parent / "corpus"

_KINDS: dict[str, type[BaseModel]] = {"items": ServiceItem, "bundles": Bundle, "policies": Policy}


@dataclass(frozen=True)
class Problem:
    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field}: {self.message}" if self.field else f"{self.path}: {self.message}"


class CorpusError(ValueError):
    """The knowledge base has problems; ``problems`` lists each with its file and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n{shown}{more}")


@dataclass(frozen=True)
class Corpus:
    """A validated knowledge base."""

    root: Path
    items: tuple[ServiceItem, ...] = ()
    bundles: tuple[Bundle, ...] = ()
    policies: tuple[Policy, ...] = ()
    faqs: tuple[FaqEntry, ...] = ()
    city: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    @property
    def guides(self) -> tuple[ServiceItem | Bundle, ...]:
        """Items and bundles: the documents that have a 办事指南."""
        return (*self.items, *self.bundles)

    @property
    def documents(self) -> tuple[ServiceItem | Bundle | Policy, ...]:
        return (*self.items, *self.bundles, *self.policies)

    def item(self, code: str) -> ServiceItem:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def by_name(self) -> dict[str, ServiceItem | Bundle | Policy]:
        named: dict[str, ServiceItem | Bundle | Policy] = {}
        for entry in self.guides:
            named[entry.name] = entry
        for policy in self.policies:
            named[policy.title] = policy
        return named


def _files(root: Path, kind: str) -> Iterator[Path]:
    folder = root / kind
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.suffix in {".yml", ".yaml"})


def _field_path(loc: tuple[int | str, ...], data: Any) -> str:
    """``materials.2.name`` → ``materials[2](身份证).name``: name list entries so authors find them."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
            label = node.get("name") or node.get("q") or node.get("number") if isinstance(node, dict) else None
            parts[-1] += f"[{part}]" + (f"({label})" if label else "")
            continue
        parts.append(str(part))
        node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


def _parse(path: Path, model: type[BaseModel], problems: list[Problem]) -> BaseModel | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(Problem(path, "", f"cannot be read as UTF-8 YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(path, "", "must be a YAML mapping"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(Problem(path, _field_path(tuple(error["loc"]), data), error["msg"]))
        return None


def _load_faq_file(path: Path, problems: list[Problem]) -> list[FaqEntry]:
    entries: list[FaqEntry] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(path, "", f"cannot be read as UTF-8: {exc}"))
        return entries
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entries.append(FaqEntry.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(path, f"line {number}", f"not JSON: {exc.msg}"))
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"])
                problems.append(Problem(path, f"line {number}.{field}", error["msg"]))
    return entries


def _cross_check(
    items: list[ServiceItem], bundles: list[Bundle], policies: list[Policy], paths: dict[str, Path]
) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    everything: list[ServiceItem | Bundle | Policy] = [*items, *bundles, *policies]
    guides: list[ServiceItem | Bundle] = [*items, *bundles]
    for entry in everything:
        key = entry.code
        if key in seen:
            problems.append(Problem(paths[key], "code", f"{key} is also used by {seen[key]}"))
        seen[key] = str(paths.get(key, ""))
    names: dict[str, str] = {}
    for entry in guides:
        if entry.name in names:
            problems.append(
                Problem(paths[entry.code], "name", f"{entry.name!r} is also the name of {names[entry.name]}")
            )
        names[entry.name] = entry.code
    item_codes = {item.code for item in items}
    for bundle in bundles:
        for member in bundle.members:
            if member.code and member.code not in item_codes:
                problems.append(Problem(paths[bundle.code], "members", f"unknown item code {member.code}"))
    for policy in policies:
        for code in policy.related_items:
            if code not in item_codes and code not in {b.code for b in bundles}:
                problems.append(Problem(paths[policy.code], "related_items", f"unknown code {code}"))
    return problems


def load_corpus(root: Path = BUNDLED_KB) -> Corpus:
    """Load and validate every file under ``root``.

    Raises:
        CorpusError: listing every problem found; nothing is returned half-loaded.
    """
    if not root.is_dir():
        raise CorpusError([Problem(root, "", "knowledge base directory does not exist")])
    problems: list[Problem] = []
    loaded: dict[str, list[Any]] = {kind: [] for kind in _KINDS}
    paths: dict[str, Path] = {}
    digest = hashlib.sha256()
    for kind, model in _KINDS.items():
        for path in _files(root, kind):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
            entry = _parse(path, model, problems)
            if entry is not None:
                loaded[kind].append(entry)
                paths[entry.code] = path  # type: ignore[attr-defined]
    faqs: list[FaqEntry] = []
    faq_dir = root / "faq"
    if faq_dir.is_dir():
        for path in sorted(faq_dir.glob("*.jsonl")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
            for entry in _load_faq_file(path, problems):
                if entry.id in paths:
                    problems.append(Problem(path, "id", f"{entry.id} is also used by {paths[entry.id]}"))
                paths[entry.id] = path
                faqs.append(entry)
    city: dict[str, Any] = {}
    city_file = root / "city.yml"
    if city_file.exists():
        digest.update(city_file.read_bytes())
        city = yaml.safe_load(city_file.read_text(encoding="utf-8")) or {}
    problems.extend(_cross_check(loaded["items"], loaded["bundles"], loaded["policies"], paths))
    if not any(loaded.values()) and not faqs and not problems:
        problems.append(Problem(root, "", "contains no items, bundles, policies or imported FAQ sheets"))
    if problems:
        raise CorpusError(problems)
    return Corpus(
        root=root,
        items=tuple(sorted(loaded["items"], key=lambda i: i.code)),
        bundles=tuple(sorted(loaded["bundles"], key=lambda b: b.code)),
        policies=tuple(sorted(loaded["policies"], key=lambda p: p.code)),
        faqs=tuple(faqs),
        city=city,
        digest=digest.hexdigest(),
    )
