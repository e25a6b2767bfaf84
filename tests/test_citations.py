"""Every citation of every profile quotes its seed exactly, in exactly the lines it cites,
under the seed's own section label (issue 17, item 13); the checker catches what was wrong
before (each case below is a citation or quote the profiles carried); and
``docs/rules-coverage.md`` quotes every sentence of the passages it covers and names rules,
modules and tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gis.rules import available_profiles, load_profile
from gis.rules.citations import check_citation, check_profile, cited_entries
from gis.rules.models import Citation, Condition, Profile
from gis.rules.seeds import ELISION, default_seeds_dir, load_seed, matches_whole, quote_parts

S3, S0, S1 = "003_93e195fdba6286ab.txt", "000_cbee880b0c5e9669.txt", "001_248526256ffb19ba.txt"


def test_the_seeds_are_there() -> None:
    assert (default_seeds_dir() / S3).is_file(), f"seeds expected in {default_seeds_dir()}"


@pytest.mark.parametrize("profile_id", available_profiles())
def test_every_citation_of_the_profile_holds(profile_id: str) -> None:
    problems = check_profile(load_profile(profile_id))
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("profile_id", available_profiles())
def test_every_target_and_path_carries_a_quote(profile_id: str) -> None:
    entries = list(cited_entries(load_profile(profile_id)))
    assert any(w.startswith("targets.") for w, _, _ in entries)
    assert len([w for w, _, _ in entries if w.startswith("justification_paths.")]) >= 6
    assert all(quote for _, quote, _ in entries)


# -- the seeds' numbering, titles and text --------------------------------------------------


@pytest.mark.parametrize(("seed", "line", "label"), [
    (S3, 131, "一"), (S3, 133, "一"), (S3, 141, "二(一)"), (S3, 157, "二(二)5"),
    (S3, 167, "二(三)9"), (S3, 195, "二(五)18"), (S3, 205, "三(三)"), (S3, 213, "一"),
    (S3, 223, "二(一)2"), (S3, 229, "二(一)2"), (S3, 243, "二(二)7"), (S3, 255, "二(三)11"),
    (S0, 856, "二(一)1"), (S0, 1551, "一(二)"), (S0, 1567, "二(一)1"),
    (S1, 1144, "二(一)1"), (S1, 2416, "一(三)"), (S1, 2428, "二(一)1"),
])
def test_section_labels_follow_the_seeds_numbering(seed: str, line: int, label: str) -> None:
    assert load_seed(seed).section(line).label() == label


def test_numbering_restarts_with_each_document() -> None:
    seed = load_seed(S3)
    assert seed.title(167) == "关于优化国土空间开发保护格局的实施意见"
    assert seed.title(223) == "关于加强生态保护红线管理的实施意见"
    assert seed.title(125) == seed.title(205) != seed.title(207)
    assert seed.range_label(243, 245) == "二(二)7-8"
    assert seed.range_label(201, 213) is None  # crosses from one document into the next
    four_rights = load_seed(S0)
    assert four_rights.title(856) == "兴庆区关于深入推进土地权改革完善土地要素市场化配置的实施方案"
    assert "山林权改革" in four_rights.title(1567)


def test_quotes_are_located_across_wrapping_page_breaks_and_spaces() -> None:
    seed = load_seed(S3)
    # a sentence broken by a page break (131 | 133)
    wrapped = "基于2020年现状城镇建设用地规模的1.3倍以内"
    assert [(f.first, f.last) for f in seed.locate(wrapped)] == [(131, 133)]
    # the same sentence in both documents
    assert [f.first for f in seed.locate("自然保护地核心保护区原则上禁止人为活动。")] == [167, 223]
    # a page number between the lines is not text; "于 5%" has an extraction space
    assert [(f.first, f.last) for f in load_seed(S0).locate(
        "搬迁撤村庄分类编制工作")] == [(852, 852)]
    assert [(f.first, f.last) for f in load_seed(S0).locate(
        "村庄规划安排不少于5%的建设用地机动指标")] == [(854, 856)]


def test_elisions() -> None:
    assert quote_parts(f"甲乙{ELISION}丙丁") == ["甲乙", "丙丁"]
    for bad in (f"{ELISION}甲", f"甲{ELISION}", f"甲{ELISION}{ELISION}乙", ""):
        with pytest.raises(ValueError):
            quote_parts(bad)
    assert matches_whole(f"甲乙{ELISION}戊", "甲乙丙丁戊")
    assert not matches_whole(f"甲乙{ELISION}丙", "甲乙丙")  # nothing left out: no mark
    assert not matches_whole("甲乙", "甲乙丙")
    seed = load_seed(S3)
    quote = f"依法依规从严查处；{ELISION}依法依规追究损害赔偿责任。"
    assert [(f.first, f.last) for f in seed.locate(quote)] == [(253, 255)]
    # an elision must leave something out
    assert not seed.locate(f"依法依规从严查处；{ELISION}涉嫌构成犯罪的")


def test_sentences_of_a_range() -> None:
    sentences = load_seed(S3).sentences(125, 263)
    assert sentences[0].first == 127 and sentences[0].text.startswith("为深入贯彻落实")
    goal = sentences[1]
    assert (goal.first, goal.last) == (131, 133) and goal.text.startswith("到2025年")
    texts = [s.text for s in sentences]
    # item titles, headings and duty notes are not sentences
    assert "坚守生态保护红线。" not in texts and not any("责任单位" in t for t in texts)
    assert "生态保护红线内，自然保护地核心保护区原则上禁止人为活动。" in texts
    # a passage's sentences are whole, even where the passage starts mid-sentence
    quota = load_seed(S1).sentences(1142, 1148)
    assert [(s.first, s.last) for s in quota] == [(1140, 1148)]
    assert quota[0].text.startswith("落实规划“留白”机制")


# -- what the profiles had wrong -------------------------------------------------------------


def _rule(profile: Profile, rule_id: str, **citation) -> tuple[str, object]:
    rule = profile.rules[rule_id]
    return rule.text_zh, rule.citation.model_copy(update=citation)


@pytest.mark.parametrize(("case", "fragment"), [
    # the range began in another paragraph (item 1 of the red-line opinions)
    (lambda p: _rule(p, "redline.core_zone", lines="221-223"), "the quote is at 167, 223"),
    (lambda p: _rule(p, "farmland.permanent_basic", lines="155-157"), "the quote is at 157"),
    (lambda p: _rule(p, "udb.centralized_construction", lines="179-181"),
     "the quote is at 179"),
    # a wrong section label
    (lambda p: _rule(p, "planning.monitoring", section="三(二)18"), "lines are in 二(五)18"),
    (lambda p: _rule(p, "redline.justification_content", section="二(二)8"),
     "lines are in 二(二)7-8"),
    # shortened without marking the omission
    (lambda p: ("加强生态保护红线日常执法监督，涉及违法违规用地、破坏生态环境、"
                "破坏保护设施、违反自然保护地管理规定的，依法依规从严查处；"
                "造成自然资源、生态环境损害的，依法依规追究损害赔偿责任。",
                p.rules["redline.enforcement"].citation), "quote not in"),
    # straight quotes where the seed has “”, a full stop where it has a comma
    (lambda p: ('城镇开发边界集中建设区实行"详细规划+规划许可"的管制方式',
                p.rules["udb.centralized_construction"].citation), "quote not in"),
    (lambda p: ("各类非农建设项目选址布局尽量不占或少占耕地，可以利用荒地的，"
                "不得占用耕地；可以利用劣地的，不得占用好地。",
                p.rules["farmland.siting_preference"].citation), "quote not in"),
    # a target without its words
    (lambda p: (None, p.targets["redline_km2"].citation), "no quote"),
])
def test_what_was_wrong_is_caught(case, fragment: str) -> None:
    profile = load_profile("ningxia")
    quote, citation = case(profile)
    problems = check_citation(profile, quote, citation)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(("section", "fragment"), [
    ("土地权改革", "not a label"),  # what the district profiles said
    ("二(一)1", "does not name the part"),  # the four-rights compilation holds four plans
    ("排污权改革 二(一)1", "not words of the title"),
    ("土地权改革 二(二)1", "lines are in 二(一)1"),
])
def test_sections_of_a_compilation_name_the_part(section: str, fragment: str) -> None:
    profile = load_profile("dawukou")
    rule = profile.quota["village_flexible"]
    citation = rule.citation.model_copy(update={"section": section})
    assert any(fragment in p for p in check_citation(profile, rule.text_zh, citation))


def test_conditions_and_activities_are_checked() -> None:
    profile = load_profile("ningxia")
    rule = profile.rules["farmland.siting_preference"]
    unmarked = "严格耕地占补平衡，确保本行政区域内耕地总量不减少"
    old = [c.model_copy(update={"zh": unmarked}) for c in rule.conditions if c.id == "balance"]
    broken = profile.model_copy(update={"rules": {**profile.rules, "farmland.siting_preference":
                                                  rule.model_copy(update={"conditions": old})}})
    assert [p.where for p in check_profile(broken)] == [
        "rules.farmland.siting_preference.conditions.balance"]
    own = Condition(id="own", zh="线性基础设施修筑尽量采用隧道或桥梁等方式", en="own lines",
                    citation=Citation(document="redline_opinions", section="二(一)3",
                                      seed=S3, lines="229-231"))
    rule = profile.rules["redline.linear_infrastructure"]
    broken = profile.model_copy(update={"rules": {**profile.rules, "redline.linear_infrastructure":
                                                  rule.model_copy(update={"conditions": [own]})}})
    [problem] = check_profile(broken)
    assert problem.where.endswith(".own") and "the quote is at 231" in problem.what
    la2 = profile.limited_activities[1]
    changed = la2.model_copy(update={"zh": la2.zh.replace("，", "；", 1)})
    broken = profile.model_copy(update={"limited_activities": [
        profile.limited_activities[0], changed, *profile.limited_activities[2:]]})
    assert [p.where for p in check_profile(broken)] == ["activities.LA2"]


def test_a_missing_seed_is_a_problem(tmp_path: Path) -> None:
    profile = load_profile("ningxia")
    rule = profile.rules["redline.core_zone"]
    assert check_citation(profile, rule.text_zh, rule.citation, tmp_path)


# -- docs/rules-coverage.md -------------------------------------------------------------------

COVERAGE = Path(__file__).resolve().parents[1] / "docs" / "rules-coverage.md"
ROOT = COVERAGE.parents[1]
#: The passages the document covers sentence by sentence: seed prefix -> lines.
PASSAGES = {"003": (125, 263), "000": (854, 858), "001": (1142, 1148)}
SEED_FILES = {"003": S3, "000": S0, "001": S1}
_ROW = re.compile(r"^\| *(\d{3}):(\d+)(?:-(\d+))? *\|(.*)\|\s*$")
_REF = re.compile(r"`([^`]+)`")


def _coverage_rows() -> list[dict]:
    rows = []
    for number, line in enumerate(COVERAGE.read_text(encoding="utf-8").splitlines(), 1):
        m = _ROW.match(line)
        if not m:
            continue
        seed, first, last, rest = m.groups()
        cells = [c.strip() for c in rest.split("|")]
        assert len(cells) == 4, f"rules-coverage.md:{number}: expected 5 columns"
        sentence, implemented, tested, why = cells
        rows.append({"at": f"rules-coverage.md:{number}", "seed": seed, "first": int(first),
                     "last": int(last or first), "sentence": sentence,
                     "implemented": _REF.findall(implemented), "tested": _REF.findall(tested),
                     "why": why.strip("— ")})
    return rows


def test_the_coverage_quotes_every_sentence_of_the_passages_once() -> None:
    rows = _coverage_rows()
    assert rows, "no rows read from docs/rules-coverage.md"
    for prefix, (first, last) in PASSAGES.items():
        seed = load_seed(SEED_FILES[prefix])
        listed = [r for r in rows if r["seed"] == prefix]
        for sentence in seed.sentences(first, last):
            found = [r for r in listed if (r["first"], r["last"]) == (sentence.first,
                                                                     sentence.last)
                     and matches_whole(r["sentence"], sentence.text)]
            assert len(found) == 1, (f"{prefix}:{sentence.first}-{sentence.last} "
                                     f"{sentence.text[:30]}… listed {len(found)} times")
            listed.remove(found[0])
        assert not listed, [f"{r['at']}: not a sentence of {prefix}:{r['first']}-{r['last']} "
                            f"as quoted" for r in listed]


def _profiles() -> dict[str, Profile]:
    return {p: load_profile(p) for p in available_profiles()}


def _exists(ref: str, profiles: dict[str, Profile]) -> bool:
    kind, _, name = ref.partition(":")
    if not name:  # a file of the project
        return (ROOT / ref).is_file()
    owner, _, key = name.rpartition("/")
    chosen = [profiles[owner]] if owner in profiles else list(profiles.values())
    if owner and owner not in profiles:
        return False
    found = {
        "rule": lambda p: key in p.rules,
        "quota": lambda p: (p.quota or {}).get(key) is not None,
        "target": lambda p: key in p.targets,
        "path": lambda p: any(x.id == key for x in p.justification_paths),
        "activity": lambda p: any(a.code == key for a in p.activities),
        "condition": lambda p: _has_condition(p, *key.rsplit(".", 1)),
    }.get(kind)
    return found is not None and any(found(p) for p in chosen)


def _has_condition(profile: Profile, owner: str, condition: str) -> bool:
    """``owner`` is a rule id or an activity code."""
    rule = profile.rules.get(owner)
    conditions = rule.conditions if rule else next(
        (a.conditions for a in profile.activities if a.code == owner), [])
    return any(c.id == condition for c in conditions)


def _test_exists(ref: str) -> bool:
    path, _, name = ref.partition("::")
    file = ROOT / path
    return bool(name) and file.is_file() and re.search(
        rf"^(async )?def {re.escape(name)}\(", file.read_text(encoding="utf-8"), re.M) is not None


def test_the_coverage_names_rules_modules_and_tests_that_exist() -> None:
    profiles = _profiles()
    for row in _coverage_rows():
        where = f"{row['at']} ({row['seed']}:{row['first']})"
        missing = [r for r in row["implemented"] if not _exists(r, profiles)]
        assert not missing, f"{where}: no such rule, entry or file {missing}"
        missing = [t for t in row["tested"] if not _test_exists(t)]
        assert not missing, f"{where}: no such test {missing}"
        if row["implemented"]:
            assert row["tested"], f"{where}: implemented but no test named"
        else:
            assert row["why"], f"{where}: neither implemented nor a reason why not"
