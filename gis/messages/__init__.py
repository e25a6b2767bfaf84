"""One message catalogue: every message, enum label and report string a user reads, in
Chinese (the bureaus' working language, the default) and English.

The texts live in YAML next to this module (``labels.yaml`` for enum labels, ``*.yaml`` for
messages), keyed by a stable id; code never carries a user-facing sentence of its own, so a
missing translation is a missing key, which a test catches, rather than an English sentence
inside a Chinese page. Activity names come from the rule profiles and zone/class names from
the layer catalogue, where they are defined with their sources.

- :func:`text` renders a message (``str.format`` placeholders) in a language;
- :func:`label` names an enum value (a verdict, a finding kind, a status ...);
- :func:`negotiate` picks the language of an HTTP request from ``Accept-Language``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "zh"


@dataclass(frozen=True)
class Message:
    """A message id with its parameters, rendered late in the reader's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        return text(self.key, lang, **self.params)

    def __str__(self) -> str:  # logs and tracebacks: English
        return self.render("en")


@dataclass(frozen=True)
class Label:
    """An enum value as a message parameter, named in the reader's language."""

    group: str
    value: str

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        return label(self.group, self.value, lang)


@dataclass(frozen=True)
class AnyOf:
    """Enum values joined with "or" ("规划或管理员" / "planner or administrator")."""

    group: str
    values: tuple[str, ...]

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        names = [label(self.group, v, lang) for v in self.values]
        if lang == "zh":
            return "或".join(names)
        return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


@dataclass(frozen=True)
class Joined:
    """Names or messages listed as each language lists them ("a、b、c" / "a, b, c"; with
    ``strong``, "；"/"; " for items that have commas of their own), each item rendered in the
    reader's language, so a list never reads as an English phrase inside a Chinese sentence."""

    items: tuple[Any, ...]
    strong: bool = False

    @classmethod
    def of(cls, items: Any, strong: bool = False) -> Joined:
        return cls(tuple(items), strong)

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        texts = [i.render(lang) if hasattr(i, "render") else str(i) for i in self.items]
        if lang == "zh":
            return ("；" if self.strong else "、").join(texts)
        return ("; " if self.strong else ", ").join(texts)

    def __str__(self) -> str:
        return self.render("en")


@dataclass(frozen=True)
class Foreign:
    """What another library said (the CQL2 parser, PostgreSQL, GDAL), in English only:
    English readers get its words as they are, Chinese readers the catalogue's account."""

    words: str
    account: Message

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        return self.words if lang == "en" else self.account.render(lang)


@dataclass(frozen=True)
class Code:
    """An enum value: its code in English, its label in Chinese (``with_code``: followed by
    the code, for a reader who has to send it: 保留林地（keep_forest）)."""

    group: str
    value: str
    with_code: bool = False

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        if lang == "en":
            return self.value
        name = label(self.group, self.value, lang)
        return f"{name}（{self.value}）" if self.with_code and name != self.value else name


@dataclass(frozen=True)
class Codes:
    """Enum values listed. English: ``english`` if given (the historical spelling of the
    list), else the codes joined with ", "; Chinese: the labels joined with ``sep`` ("、",
    or "或" for alternatives), with their codes when ``with_code``."""

    group: str
    values: tuple[str, ...]
    english: str | None = None
    sep: str = "、"
    with_code: bool = False

    @classmethod
    def of(cls, group: str, values: Any, english: str | None = None,
           sep: str = "、", with_code: bool = False) -> Codes:
        return cls(group, tuple(values), english, sep, with_code)

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        if lang == "en":
            return self.english if self.english is not None else ", ".join(self.values)
        return self.sep.join(Code(self.group, v, self.with_code).render(lang)
                             for v in self.values)


@dataclass(frozen=True)
class Named:
    """A name given in both languages by its source (the rule profile, the layer catalogue)."""

    zh: str
    en: str

    def render(self, lang: Lang = DEFAULT_LANG) -> str:
        return self.en if lang == "en" else self.zh


def validation_message(error: Mapping[str, Any]) -> Message:
    """One pydantic validation error (``{"type", "loc", "ctx", ...}``) in the catalogue's
    words, for the API's request errors and the jobs' params alike; a type without words of
    its own gets the generic "invalid value"."""
    context = {k: v if isinstance(v, int | float | str) else str(v)
               for k, v in (error.get("ctx") or {}).items()}
    message = Message(_VALIDATION.get(str(error.get("type")), "validation.invalid"), context)
    try:
        message.render(DEFAULT_LANG)
    except (KeyError, IndexError, ValueError):  # a placeholder the context lacks
        return Message("validation.invalid", {})
    return message


#: pydantic error type -> the catalogue key explaining it.
_VALIDATION = {
    "missing": "validation.missing", "float_parsing": "validation.number",
    "float_type": "validation.number", "int_parsing": "validation.integer",
    "int_type": "validation.integer", "int_from_float": "validation.integer",
    "finite_number": "validation.finite_number", "greater_than": "validation.greater_than",
    "greater_than_equal": "validation.greater_than_equal", "less_than": "validation.less_than",
    "less_than_equal": "validation.less_than_equal",
    "string_too_short": "validation.too_short_text", "string_too_long": "validation.too_long_text",
    "too_short": "validation.too_short_list", "too_long": "validation.too_long_list",
    "string_pattern_mismatch": "validation.pattern", "literal_error": "validation.choice",
    "enum": "validation.choice", "string_type": "validation.text",
    "bool_parsing": "validation.boolean", "bool_type": "validation.boolean",
    "date_parsing": "validation.date", "date_from_datetime_parsing": "validation.date",
    "date_type": "validation.date", "dict_type": "validation.object",
    "model_type": "validation.object", "model_attributes_type": "validation.object",
    "list_type": "validation.list", "json_invalid": "validation.json",
    "extra_forbidden": "validation.extra",
}


#: Parameter names that would collide with :func:`text`'s and :func:`msg`'s own arguments.
_RESERVED = frozenset({"key", "lang"})


def msg(key: str, **params: Any) -> Message:
    """A catalogue message to raise or show; an unknown key or a parameter named like
    :func:`text`'s own arguments fails at once, not when the message is shown."""
    if key not in _messages():
        raise KeyError(f"no message {key!r} in the catalogue (gis/messages/*.yaml)")
    if clash := _RESERVED & set(params):
        raise ValueError(f"message parameters may not be named {sorted(clash)}")
    return Message(key, params)


def text(key: str, lang: Lang = DEFAULT_LANG, **params: Any) -> str:
    """Message ``key`` in ``lang``. Parameters that are themselves localized (a
    :class:`Message`, :class:`Label`, :class:`AnyOf`) are rendered in the same language."""
    entry = _messages()[key]
    rendered = {k: v.render(lang) if hasattr(v, "render") else v for k, v in params.items()}
    return entry[lang].format(**rendered)


def template(key: str, lang: Lang = DEFAULT_LANG) -> str:
    """Message ``key`` unformatted, for a renderer that fills the placeholders itself (the
    portal's scripts fill ``{z}`` in the browser)."""
    return _messages()[key][lang]


def keys(prefix: str = "") -> list[str]:
    """Every message key starting with ``prefix``, in catalogue order."""
    return [key for key in _messages() if key.startswith(prefix)]


def label(group: str, value: str, lang: Lang = DEFAULT_LANG) -> str:
    """The name of an enum value, e.g. ``label("verdict", "prohibited") == "禁止"``. An
    unknown value reads as itself (the completeness test keeps that from happening)."""
    entry = _labels().get(group, {}).get(value)
    return entry[lang] if entry else value


def labels(group: str, lang: Lang = DEFAULT_LANG) -> dict[str, str]:
    """Every label of a group, in catalogue order."""
    return {value: entry[lang] for value, entry in _labels().get(group, {}).items()}


def label_groups() -> dict[str, dict[str, dict[str, str]]]:
    return _labels()


_LANG_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def environment_language(lang: str | None = None) -> Lang:
    """The language of a terminal or notebook: ``lang`` if given, else ``GIS_LANG`` (zh or
    en), else English when the POSIX locale asks for it, else Chinese (the bureaus'
    language). The ``gis`` command and ``gis.connect`` decide the same way."""
    chosen = (lang or os.environ.get("GIS_LANG", "")).strip().lower()
    if chosen in ("zh", "en"):
        return chosen  # type: ignore[return-value]
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def negotiate(accept_language: str | None) -> Lang:
    """The best of our languages for an ``Accept-Language`` header (RFC 9110 12.5.4): the
    highest-q range whose primary tag is ours; Chinese when nothing matches or the header is
    absent or malformed."""
    best: tuple[float, Lang] | None = None
    for part in (accept_language or "").split(","):
        match = _LANG_RANGE.match(part)
        if not match:
            continue
        primary, q = match.group(1).lower(), match.group(2)
        try:
            weight = float(q) if q is not None else 1.0
        except ValueError:
            continue
        if primary in LANGS and weight > 0 and (best is None or weight > best[0]):
            best = (weight, primary)  # type: ignore[assignment]
    return best[1] if best else DEFAULT_LANG


def _load(name: str) -> dict[str, Any]:
    raw = resources.files("gis.messages").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(raw) or {}


@cache
def _messages() -> dict[str, dict[str, str]]:
    """Every ``*.yaml`` but labels.yaml, merged; each entry must have zh and en."""
    merged: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files("gis.messages").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml") or entry.name == "labels.yaml":
            continue
        for key, texts in _load(entry.name).items():
            if key in merged:
                raise ValueError(f"message {key!r} is defined twice ({entry.name})")
            _check(key, texts, entry.name)
            merged[key] = texts
    return merged


@cache
def _labels() -> dict[str, dict[str, dict[str, str]]]:
    groups = _load("labels.yaml")
    for group, values in groups.items():
        for value, texts in values.items():
            _check(f"{group}.{value}", texts, "labels.yaml")
    return groups


def _check(key: str, texts: Any, source: str) -> None:
    if not isinstance(texts, dict) or set(texts) != set(LANGS) or not all(
            isinstance(t, str) and t.strip() for t in texts.values()):
        raise ValueError(f"{source}: {key!r} needs a non-empty zh and en text")
