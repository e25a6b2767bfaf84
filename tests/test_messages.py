"""The message catalogue: complete in both languages, and Chinese responses carry no English
sentence (the portal is Chinese; an English error inside it is a half-translated product)."""

from __future__ import annotations

import re
import string
from typing import get_args

import pytest
from fastapi.testclient import TestClient

import gis.errors
from api.app import create_app
from gis.analysis import forest_grass, monitoring, reserve
from gis.auth import ROLES
from gis.messages import _messages, label, label_groups, negotiate, text
from gis.rules import UnknownProfile, load_profile
from gis.rules.models import ActivityCategory, Comparator, Verdict

#: Words that may stand in a Chinese sentence: names of headers, formats and placeholders'
#: technical values, not English prose.
TECHNICAL = {"X-API-Key", "JSON", "NaN", "Infinity", "YYYY-MM-DD", "HTTP", "true", "false",
             "gis.identity.Actor", "on_behalf_of", "errors", "API", "object", "CRS84",
             "EPSG", "GeoJSON", "WKT", "gis db up", "gis monitor run"}
_ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:]+[A-Za-z][A-Za-z'’-]*){2,}")


def english_sentence(zh: str) -> str | None:
    """A run of three or more English words in a Chinese text, else None."""
    cleaned = zh
    for word in sorted(TECHNICAL, key=len, reverse=True):
        cleaned = cleaned.replace(word, " ")
    match = _ENGLISH_RUN.search(cleaned)
    return match.group(0) if match else None


def _fields(template: str) -> set[str]:
    return {name.split("!")[0].split(":")[0] for _, name, _, _ in
            string.Formatter().parse(template) if name}


ENUMS = {
    "verdict": get_args(Verdict),
    "activity_category": get_args(ActivityCategory),
    "comparator": get_args(Comparator),
    "finding_kind": get_args(forest_grass.Kind),
    "finding_status": get_args(forest_grass.Status),
    "finding_decision": get_args(forest_grass.Decision),
    "patch_status": get_args(monitoring.Status),
    "patch_decision": get_args(monitoring.Decision),
    "monitored_layer": get_args(monitoring.Layer),
    "patch_kind": tuple(f"new_{c}" for c in load_profile("ningxia").monitoring.change_to),
    "purpose": get_args(reserve.Purpose),
    "ledger_entry": get_args(reserve.Entry),
    "event_action": ("detected", "decided", "status", "closed", "applied"),
    "role": ROLES,
}


@pytest.mark.parametrize("group", sorted(ENUMS))
def test_every_enum_value_has_both_labels(group: str) -> None:
    known = label_groups()[group]
    missing = [v for v in ENUMS[group] if v not in known]
    assert missing == [], f"{group}: no label for {missing}"
    for value in ENUMS[group]:
        zh, en = label(group, value, "zh"), label(group, value, "en")
        assert zh != en and re.search(r"[\u4e00-\u9fff]", zh), (group, value, zh)


def test_every_error_class_has_its_own_title() -> None:
    classes = [c for c in vars(gis.errors).values()
               if isinstance(c, type) and issubclass(c, gis.errors.GISError)]
    classes.append(UnknownProfile)
    keys = _messages()
    missing = [c.__name__ for c in classes if f"error.{c.__name__}" not in keys]
    assert missing == []


def test_messages_have_the_same_placeholders_and_no_english_in_chinese() -> None:
    for key, texts in _messages().items():
        assert _fields(texts["zh"]) == _fields(texts["en"]), key
        assert re.search(r"[\u4e00-\u9fff]", texts["zh"]), (key, texts["zh"])
        assert english_sentence(texts["zh"]) is None, (key, texts["zh"])


def test_labels_have_no_english_in_chinese() -> None:
    for group, values in label_groups().items():
        for value, texts in values.items():
            assert english_sentence(texts["zh"]) is None, (group, value)


@pytest.mark.parametrize(("header", "lang"), [
    (None, "zh"), ("", "zh"), ("zh-CN,zh;q=0.9", "zh"), ("en-US,en;q=0.9", "en"),
    ("fr-FR, en;q=0.5", "en"), ("de", "zh"), ("en;q=0.2, zh;q=0.8", "zh"), ("*", "zh"),
    ("en;q=0", "zh"), ("garbage;;;", "zh")])
def test_accept_language_negotiation(header: str | None, lang: str) -> None:
    assert negotiate(header) == lang


def _chinese_problem(body: dict) -> None:
    for part in [body["title"], body["detail"], *[e["msg"] for e in body.get("errors", [])]]:
        assert re.search(r"[\u4e00-\u9fff]", part), (part, body)
        assert english_sentence(part) is None, (part, body)


def test_api_problems_are_chinese_by_default_and_english_on_request(settings, engine,
                                                                   role_keys) -> None:
    with TestClient(create_app(settings)) as client:
        requests = [
            ("get", "/no/such/page", {}, None, 404),
            ("post", "/api/v1/analysis/siting", {}, {}, 401),
            ("post", "/api/v1/analysis/siting", role_keys["forestry"], {}, 403),
            ("post", "/api/v1/reserve/villages/640202100201/draws", role_keys["planner"],
             {"project_code": "P", "purpose": "key_industry", "area_m2": -1}, 422),
            ("post", "/api/v1/reserve/villages/640202100201/draws", role_keys["planner"],
             {"purpose": 3, "area_m2": "abc", "draw_date": "yesterday"}, 422),
            ("get", "/ogc/collections/eco_redline/items", {}, None, 401),
            ("get", "/api/v1/analysis/siting/abc", {"X-API-Key": "om_bad_key"}, None, 401),
            ("delete", "/health", {}, None, 405),
        ]
        for method, path, headers, body, status in requests:
            zh = client.request(method, path, headers=headers, json=body)
            assert zh.status_code == status, (path, zh.text)
            _chinese_problem(zh.json())
            en = client.request(method, path, json=body,
                                headers={**headers, "Accept-Language": "en-GB,en;q=0.9"})
            assert en.status_code == status
            assert not re.search(r"[\u4e00-\u9fff]", en.json()["title"] + en.json()["detail"])
    assert text("api.not_found", "zh", path="/x") == "没有这个地址：/x"
