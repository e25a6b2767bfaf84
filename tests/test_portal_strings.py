"""The portal's words come from the message catalogue: every key its scripts and templates use
exists in both languages, the enum labels the pages send are labels.yaml's (one source, none
copied into portal.yaml), and no code is shown where a label belongs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.layers.catalogue import Group
from gis.messages import _messages, label_groups, labels
from portal.common import NAV
from portal.i18n import PREFIX, page_labels, strings
from portal.viewer import MONITORING_FIELDS, monitoring_popup

PORTAL = Path(__file__).resolve().parent.parent / "portal"
PAGES = ("/", "/siting", "/reconciliation", "/quota")
CONFIG = re.compile(r'<script type="application/json" id="om-config"[^>]*>(.*?)</script>', re.S)
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Where the scripts name an enum label group: ``O.label('finding_kind', ...)``.
LABEL_CALL = re.compile(r"""(?<![\w$])label\('([a-z_]+)'""")


def script_keys() -> dict[str, set[str]]:
    """Keys of ``t('...')`` in every script (``O.t`` too, not ``createElement('...')``)."""
    return {p.name: set(re.findall(r"(?<![\w$])t\('([a-z0-9_]+)'", p.read_text("utf-8")))
            for p in sorted((PORTAL / "static").glob("*.js"))}


def template_keys() -> dict[str, set[str]]:
    """Keys of ``{{ t.xxx }}`` (and ``t.xxx.format(...)``, ``t['xxx']``) in every template."""
    out = {}
    for p in sorted((PORTAL / "templates").glob("*.html")):
        source = p.read_text("utf-8")
        out[p.name] = (set(re.findall(r"\bt\.([a-z0-9_]+)", source))
                       | set(re.findall(r"\bt\[['\"]([a-z0-9_]+)['\"]\]", source)))
    return out


def python_keys() -> set[str]:
    """Keys the page modules read (``t["legend"]``), the navigation's and the layer groups'
    (composed: ``nav_{page}``, ``group_{group}``) and the monitoring popup's field titles."""
    keys = set()
    for p in PORTAL.glob("*.py"):
        keys |= set(re.findall(r"""\bt\[["']([a-z0-9_]+)["']\]""", p.read_text("utf-8")))
    keys |= {f"nav_{page}" for page, _ in NAV}
    keys |= {f"group_{group}" for group in (*Group.__args__, "monitoring")}
    keys |= {key for _, key, _ in MONITORING_FIELDS if key}
    return keys | {"language_name", "assets_missing"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_the_portal_uses_is_in_the_catalogue(lang: str) -> None:
    words = strings(lang)
    used = {name: keys for name, keys in {**script_keys(), **template_keys()}.items()}
    assert used["onemap.js"] and used["base.html"], "the patterns above are out of date"
    missing = {name: sorted(keys - set(words)) for name, keys in used.items() if keys - set(words)}
    assert missing == {}
    assert sorted(python_keys() - set(words)) == []
    assert all(text.strip() for text in words.values())


def test_portal_words_are_the_catalogue_and_all_are_used() -> None:
    catalogue = {k.removeprefix(PREFIX) for k in _messages() if k.startswith(PREFIX)}
    assert set(strings("zh")) == set(strings("en")) == catalogue
    used = set().union(*script_keys().values(), *template_keys().values(), python_keys())
    assert sorted(catalogue - used) == []  # no word is kept that nothing shows


def test_no_enum_label_is_copied_into_the_portal_words() -> None:
    """One source: a label of labels.yaml is not repeated as a portal word (the pages use
    ``labels``), and the scripts name only label groups that exist."""
    pairs = {(t["zh"], t["en"]): f"{group}.{value}" for group, values in label_groups().items()
             for value, t in values.items()}
    copies = {key: pairs[(texts["zh"], texts["en"])] for key, texts in _messages().items()
              if key.startswith(PREFIX) and (texts["zh"], texts["en"]) in pairs}
    assert copies == {}
    for old in ("verdict_", "kind_", "status_", "decision_", "purpose_", "area_m2", "yes"):
        assert not [k for k in strings("zh") if k.startswith(old)], old
    groups = set().union(*(LABEL_CALL.findall(p.read_text("utf-8"))
                           for p in (PORTAL / "static").glob("*.js")))
    assert groups and groups <= set(label_groups()), groups - set(label_groups())


@pytest.fixture(scope="module")
def client(settings):
    app_settings = settings.with_changes(portal={"basemap": "offline", "tianditu_key": None})
    with TestClient(create_app(app_settings)) as c:
        yield c


def page_config(client: TestClient, path: str) -> dict:
    return json.loads(CONFIG.search(client.get(path).text).group(1))


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_config_labels_are_labels_yaml(client: TestClient, path: str, lang: str) -> None:
    config = page_config(client, f"{path}?lang={lang}")
    assert config["lang"] == lang
    assert config["labels"] == {group: labels(group, lang) for group in label_groups()}
    assert config["labels"] == page_labels(lang)
    assert config["t"] == strings(lang)


def test_pages_show_labels_not_codes(client: TestClient) -> None:
    zh = client.get("/reconciliation").text
    # The filters and the decision list: the finding's labels, the codes only as values.
    assert '<option value="forest_grass_overlap">林草重叠</option>' in zh
    assert '<option value="field_check">待外业核实</option>' in zh
    assert '<option value="keep_forest">保留林地</option>' in zh
    assert "需要林草角色的密钥" in zh and "(forestry)" not in zh
    en = client.get("/reconciliation?lang=en").text
    assert '<option value="keep_forest">keep forest</option>' in en
    siting = client.get("/siting").text
    assert '<option value="ningxia" selected>宁夏回族自治区</option>' in siting
    assert ">dawukou<" not in siting
    assert ">平方米</th><th>亩</th><th>公顷</th>" in siting
    quota = client.get("/quota?lang=en").text
    assert '<option value="64">Ningxia 64</option>' in quota and "宁夏 64" not in quota
    assert "need a key with the role planner" in quota
    # the language switch names the other language in itself
    assert '>English</a>' in client.get("/").text and ">中文</a>" in client.get("/?lang=en").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_monitoring_popup_labels(client: TestClient, lang: str) -> None:
    popup = page_config(client, f"/?lang={lang}")["popups"]["monitoring_patches"]
    assert popup == monitoring_popup(lang)
    assert popup["coded"]["status"] == labels("patch_status", lang)
    assert popup["coded"]["decision"] == labels("patch_decision", lang)
    assert popup["coded"]["kind"] == labels("patch_kind", lang)
    assert popup["coded"]["layer"] == labels("monitored_layer", lang)
    titles = [f["title"] for f in popup["fields"]]
    assert all(bool(CJK.search(t)) == (lang == "zh") for t in titles), titles
