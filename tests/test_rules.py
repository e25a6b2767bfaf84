"""Rule profiles: valid, inherited correctly, and every citation points at the seed text.

That every quote is the seed's, in exactly the cited lines and under the seed's own section
label, is ``tests/test_citations.py`` (the checker is :mod:`gis.rules.citations`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from gis.rules import UnknownProfile, _raw, available_profiles, load_profile
from gis.rules.models import Profile

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _normalise(text: str) -> str:
    return re.sub(r"[\s“”\"'「」]", "", text)


def _cited_text(seed: str, lines: tuple[int, int]) -> str:
    content = (SEEDS / seed).read_text(encoding="utf-8").splitlines()
    first, last = lines
    assert 1 <= first <= last <= len(content), f"{seed}:{first}-{last} outside the file"
    return _normalise("\n".join(content[first - 1:last]))


def test_profiles_available() -> None:
    assert available_profiles() == ["dawukou", "ningxia", "xingqing"]


@pytest.mark.parametrize("profile_id", ["ningxia", "dawukou", "xingqing"])
def test_targets_and_paths_cite_existing_lines(profile_id: str) -> None:
    profile = load_profile(profile_id)
    for target in profile.targets.values():
        _cited_text(target.citation.seed, target.citation.line_range)
    for path in profile.justification_paths:
        _cited_text(path.citation.seed, path.citation.line_range)


def test_target_values_are_the_seed_figures() -> None:
    dawukou, xingqing = load_profile("dawukou"), load_profile("xingqing")
    assert "7.5%" in _cited_text("001_248526256ffb19ba.txt",
                                 dawukou.targets["forest_coverage"].citation.line_range)
    assert dawukou.targets["forest_coverage"].value == pytest.approx(0.075)
    cited = _cited_text("000_cbee880b0c5e9669.txt",
                        xingqing.targets["forest_coverage"].citation.line_range)
    assert "7.23%" in cited and "8.9%" in cited
    region = load_profile("ningxia").targets
    ratio = region["udb_expansion_ratio"]
    cited = _cited_text("003_93e195fdba6286ab.txt", ratio.citation.line_range)
    assert "1.3倍" in cited and ratio.value == 1.3
    assert "1753万亩" in cited and region["cultivated_land_mu"].value == 17_530_000


def test_enumerations_match_the_text() -> None:
    profile = load_profile("ningxia")
    assert [a.code for a in profile.limited_activities] == [f"LA{i}" for i in range(1, 10)]
    assert [a.code for a in profile.national_major_projects] == [f"NMP{i}" for i in range(1, 7)]
    text = _cited_text("003_93e195fdba6286ab.txt", (223, 229))
    for activity in [*profile.limited_activities, *profile.national_major_projects]:
        first_clause = re.split(r"[，；。]", _normalise(activity.zh))[0]
        assert first_clause in text, activity.code
    assert {c.id for c in profile.activity("LA6")[0].conditions} == {
        "necessary_unavoidable", "county_plan"}


def test_inheritance_and_comparators() -> None:
    ningxia, dawukou, xingqing = (load_profile(p) for p in ("ningxia", "dawukou", "xingqing"))
    assert ningxia.rules.items() <= dawukou.rules.items() and dawukou.extends == "ningxia"
    assert "reconciliation.one_map" in dawukou.rules
    assert dawukou.reconciliation == ningxia.reconciliation
    assert set(ningxia.documents) < set(dawukou.documents)
    assert ningxia.quota is None
    dawukou_quota, xingqing_quota = (p.quota["village_flexible"] for p in (dawukou, xingqing))
    # Dawukou "安排5%" (no comparator) is 5% within a tolerance; Xingqing "不少于5%" a minimum.
    assert dawukou_quota.complies(0.0498) and not dawukou_quota.complies(0.07)
    assert not xingqing_quota.complies(0.0498) and xingqing_quota.complies(0.07)
    assert dawukou.quota["township_reserve"].complies(0.10)
    assert xingqing.quota["township_reserve"] is None


@pytest.mark.parametrize(("category", "new_land", "temporary", "path"), [
    ("limited", True, False, "limited_with_new_land"),
    ("limited", False, False, "limited_without_new_land"),
    ("national_major", True, False, "national_major_with_new_land"),
    ("national_major", False, False, "national_major_without_new_land"),
    ("limited", True, True, "temporary_land"),
    ("national_major", False, True, "temporary_land"),
    ("housing", False, False, "residents_housing_exempt"),
])
def test_justification_paths(category: str, new_land: bool, temporary: bool, path: str) -> None:
    assert load_profile("xingqing").justification_path(category, new_land, temporary).id == path


def test_bad_profiles_are_refused() -> None:
    with pytest.raises(UnknownProfile, match="dawukou"):
        load_profile("yinchuan")
    raw = _raw("ningxia")
    broken = {**raw, "rules": {**raw["rules"], "redline.core_zone": {
        **raw["rules"]["redline.core_zone"],
        "citation": {**raw["rules"]["redline.core_zone"]["citation"], "document": "nope"}}}}
    with pytest.raises(ValidationError, match="unknown document"):
        Profile.model_validate(broken)
    with pytest.raises(ValidationError, match="resolves to"):
        Profile.model_validate({**raw, "justification_paths": raw["justification_paths"][:-1]})
    with pytest.raises(ValidationError):
        Profile.model_validate({**raw, "limited_activities": raw["limited_activities"][:8]})
