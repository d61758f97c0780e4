"""Application forms declared as data (``assistant/forms/specs/*.yml``) and the pure logic of filling them.

A form names the service item it applies for, the prefix of its receipt numbers and its fields. Each field says what it is
(label, the question to ask, a plain-words explanation with an example), how it is checked (a validator from
:mod:`assistant.forms.validators` and its options), whether it is needed (required, or only when earlier answers say so:
代办 → 代办人姓名和身份证号), its personal-data class, which 情形 of the item it answers, and which profile value can prefill it.
Adding a form is adding a YAML file (and at most a small validator).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.forms import validators as v
from assistant.forms.validators import Result

SPECS_DIR = Path(__file__).resolve().parent / "specs"

FieldType = Literal[
    "id_number",
    "mobile",
    "chinese_name",
    "date",
    "address",
    "bank_card",
    "bank_name",
    "amount",
    "uscc",
    "text",
    "choice",
]
#: Personal-data classes: everything but ``none`` is encrypted at rest and masked in summaries and logs.
PiiClass = Literal["none", "name", "id", "phone", "address", "bank", "other"]
ProfileKey = Literal["name", "id_number", "phone", "address"]

#: Validator options each field type accepts in ``rules``.
_RULES: dict[str, set[str]] = {
    "id_number": {"min_age", "max_age", "purpose"},
    "date": {"allow_past", "allow_future"},
    "amount": {"minimum", "maximum"},
    "text": {"min_len", "max_len"},
}


class FormError(ValueError):
    """A form file is malformed; the message names the file and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class FormField(_Strict):
    key: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(..., min_length=2, description="名称 in summaries: 持卡人姓名")
    ask: str = Field(..., min_length=4, description="the question that asks for it")
    type: FieldType
    explain: str = Field(..., min_length=8, description="plain words for 这个是什么意思")
    example: str = Field(..., min_length=1)
    aliases: list[str] = Field(default_factory=list, description="words people use for it when correcting: 电话, 手机")
    required: bool = True
    when: dict[str, list[str]] = Field(default_factory=dict, description="earlier choice field → options that need it")
    pii: PiiClass = "none"
    options: dict[str, list[str]] = Field(default_factory=dict, description="choice: option → other words for it")
    rules: dict[str, int | float | bool | str] = Field(default_factory=dict)
    situation: str | None = Field(None, description="the item's 情形 key this choice answers")
    prefill: ProfileKey | None = Field(None, description="profile value that can fill it (材料复用)")

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if (self.type == "choice") != bool(self.options):
            raise ValueError(f"field {self.key!r}: options are for (and needed by) choice fields")
        unknown = set(self.rules) - _RULES.get(self.type, set())
        if unknown:
            raise ValueError(f"field {self.key!r}: rules {sorted(unknown)} do not apply to a {self.type} field")
        if self.situation and self.type != "choice":
            raise ValueError(f"field {self.key!r}: only a choice field can answer a 情形")
        return self

    @property
    def words(self) -> tuple[str, ...]:
        """The label and aliases, longest first (for finding which field a correction is about)."""
        return tuple(sorted({self.label, *self.aliases}, key=len, reverse=True))

    def choices(self) -> dict[str, list[str]]:
        """Options for :func:`validators.choice`: each option answers to itself and its other words."""
        return {option: [option, *others] for option, others in self.options.items()}

    def needed(self, values: Mapping[str, str]) -> bool:
        """Whether the answers so far make this field needed (or, if optional, worth asking)."""
        return all(values.get(key) in options for key, options in self.when.items())


class FormSpec(_Strict):
    code: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$")
    item: str = Field(..., pattern=r"^[PEB]\d{2}$", description="the service item applied for")
    title: str = Field(..., min_length=4)
    receipt_prefix: str = Field(..., pattern=r"^[A-Z]{2,4}$")
    intro: str = Field(..., min_length=8)
    fields: list[FormField] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _references(self) -> FormSpec:
        seen: dict[str, FormField] = {}
        for field in self.fields:
            if field.key in seen:
                raise ValueError(f"field {field.key!r} is declared twice")
            for key, options in field.when.items():
                earlier = seen.get(key)
                if earlier is None or earlier.type != "choice":
                    raise ValueError(f"field {field.key!r}: `when` needs an earlier choice field, {key!r} is not one")
                wrong = [o for o in options if o not in earlier.options]
                if wrong:
                    raise ValueError(f"field {field.key!r}: {key!r} has no option {wrong[0]!r}")
            seen[field.key] = field
        return self

    def field(self, key: str) -> FormField:
        for field in self.fields:
            if field.key == key:
                return field
        raise KeyError(f"form {self.code!r} has no field {key!r}")


def load_form(path: Path) -> FormSpec:
    """Read one form file.

    Raises:
        FormError: the file cannot be read or does not describe a valid form (the message says where).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return FormSpec.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise FormError(f"{path.name}: cannot read the form: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())
        raise FormError(f"{path.name}: {problems}") from exc


@cache
def load_forms(folder: Path = SPECS_DIR) -> dict[str, FormSpec]:
    """All forms in ``folder`` by code (receipt prefixes and items must be unique)."""
    forms: dict[str, FormSpec] = {}
    for path in sorted(folder.glob("*.yml")):
        spec = load_form(path)
        for other in forms.values():
            if spec.code == other.code or spec.receipt_prefix == other.receipt_prefix or spec.item == other.item:
                raise FormError(f"{path.name}: code, receipt prefix or item already used by form {other.code!r}")
        forms[spec.code] = spec
    return forms


def form_for_item(item: str, folder: Path = SPECS_DIR) -> FormSpec | None:
    """The form that applies for service item ``item``, if there is one."""
    return next((f for f in load_forms(folder).values() if f.item == item), None)


# --- filling ---------------------------------------------------------------------------------------------------------
def validate(field: FormField, text: str, today: dt.date) -> Result:
    """Check an answer for ``field`` with its validator and rules."""
    rules = dict(field.rules)
    checks: dict[str, Callable[[], Result]] = {
        "id_number": lambda: v.id_number(text, today=today, **rules),  # type: ignore[arg-type]
        "mobile": lambda: v.mobile(text),
        "chinese_name": lambda: v.chinese_name(text),
        "date": lambda: v.date_expr(text, today=today, **rules),  # type: ignore[arg-type]
        "address": lambda: v.address(text),
        "bank_card": lambda: v.bank_card(text),
        "bank_name": lambda: v.bank_name(text),
        "amount": lambda: v.amount(text, **rules),  # type: ignore[arg-type]
        "uscc": lambda: v.uscc(text),
        "text": lambda: v.text(text, **rules),  # type: ignore[arg-type]
        "choice": lambda: v.choice(text, field.choices()),
    }
    return checks[field.type]()


def relevant(spec: FormSpec, values: Mapping[str, str]) -> list[FormField]:
    """The fields the answers so far make relevant, in order (a field whose condition no longer holds drops out)."""
    kept: dict[str, str] = {}
    fields = []
    for field in spec.fields:
        if field.needed(kept):
            fields.append(field)
            if field.key in values:
                kept[field.key] = values[field.key]
    return fields


def next_field(spec: FormSpec, values: Mapping[str, str], skipped: Iterable[str] = ()) -> FormField | None:
    """The next field to ask: relevant, not answered, not skipped (only optional fields can be skipped)."""
    passed = set(skipped)
    return next(
        (f for f in relevant(spec, values) if f.key not in values and not (f.key in passed and not f.required)), None
    )


def prune(spec: FormSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The answers of relevant fields only (after a correction changes 代办 to 本人, the 代办人 answers go)."""
    keys = {f.key for f in relevant(spec, values)}
    return {k: value for k, value in values.items() if k in keys}


def situation_of(spec: FormSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The item's 情形 answers given by the form's choice fields (for its personal materials list)."""
    return {f.situation: values[f.key] for f in spec.fields if f.situation and f.key in values}


def display(field: FormField, value: str) -> str:
    """How a stored value is shown back to the person: personal numbers masked."""
    if field.type == "id_number":
        return v.mask_id(value)
    if field.type == "mobile":
        return v.mask_phone(value)
    if field.type == "bank_card":
        return v.mask_bank_card(value)
    if field.type == "amount":
        return f"{value}元"
    return value


def summary_lines(spec: FormSpec, values: Mapping[str, str]) -> list[str]:
    """One "label：value" line per relevant answered field, masked."""
    return [f"{f.label}：{display(f, values[f.key])}" for f in relevant(spec, values) if f.key in values]


__all__ = [
    "FormError",
    "FormField",
    "FormSpec",
    "display",
    "form_for_item",
    "load_form",
    "load_forms",
    "next_field",
    "prune",
    "relevant",
    "situation_of",
    "summary_lines",
    "validate",
]
