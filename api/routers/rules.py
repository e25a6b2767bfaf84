"""``/api/v1/rules/{profile}``: the activity codes and rules of a profile."""

from __future__ import annotations

from fastapi import APIRouter

from gis.messages import Joined, msg
from gis.rules import UnknownProfile, available_profiles, load_profile

router = APIRouter(prefix="/rules", tags=["rules"])


@router.get("", summary="Available rule profiles")
async def profiles() -> list[dict]:
    return [{"id": p, "title_zh": load_profile(p).title_zh, "title_en": load_profile(p).title_en,
             "version": load_profile(p).version} for p in available_profiles()]


@router.get("/{profile_id}", summary="Activities, rules and approval paths of a profile")
async def profile_detail(profile_id: str) -> dict:
    if profile_id not in available_profiles():
        raise UnknownProfile(msg("rules_api.unknown_profile", profile=profile_id,
                                 available=Joined.of(available_profiles())))
    profile = load_profile(profile_id)
    activities = []
    for group, category in ((profile.limited_activities, "limited"),
                            (profile.national_major_projects, "national_major"),
                            (profile.other_activities, "other")):
        for a in group:
            activities.append({"code": a.code, "name_zh": a.zh, "name_en": a.en,
                               "category": profile.activity(a.code)[1] if category == "other"
                               else category,
                               "conditions": [c.model_dump() for c in a.conditions]})
    return {
        "id": profile.id, "version": profile.version, "title_zh": profile.title_zh,
        "title_en": profile.title_en, "extends": profile.extends,
        "activities": activities,
        "rules": {k: v.model_dump(mode="json") for k, v in profile.rules.items()},
        "justification_paths": [p.model_dump(mode="json") for p in profile.justification_paths],
        "siting": profile.siting.model_dump(),
    }
