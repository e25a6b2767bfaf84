"""The cases of a siting request that rule profiles decide by (003:223-247).

A request names an activity (its category: a limited human activity, a national major
project, residents' housing or other construction) and declares whether it needs new
construction land, whether the land is temporary and whether it has specific construction
activity (具体建设活动, 003:243). A justification path, a rule or a condition says in which
cases it applies, and a condition in which cases the request itself says it is met or not
met; the rest the planner must confirm. Part of :mod:`gis.rules.models`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

ActivityCategory = Literal["limited", "national_major", "other", "housing"]
#: A condition as a request decides it: the request says it is not met, says it is met, or
#: cannot tell (the planner must confirm it).
ConditionStatus = Literal["not_met", "met", "to_confirm"]


class Facts(NamedTuple):
    """What a siting request declares, with its activity's category."""

    category: str
    new_construction_land: bool
    temporary: bool
    construction: bool = True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Case(_Strict):
    """A case of a siting request; a field left out matches any value, ``category`` may list
    several."""

    category: ActivityCategory | list[ActivityCategory] | None = None
    new_construction_land: bool | None = None
    temporary: bool | None = None
    #: Whether the project has specific construction activity (具体建设活动, 003:243).
    construction: bool | None = None

    def matches(self, category: str, new_construction_land: bool, temporary: bool,
                construction: bool = True) -> bool:
        categories = [self.category] if isinstance(self.category, str) else self.category
        return all((
            categories is None or category in categories,
            self.new_construction_land in (None, new_construction_land),
            self.temporary in (None, temporary),
            self.construction in (None, construction),
        ))


def matches_any(cases: list[Case], facts: Facts) -> bool:
    return any(case.matches(*facts) for case in cases)


class Interpretation(_Strict):
    """A reading of the text that the text does not state in so many words: what the profile
    decided and why, shown with the finding so that it reads as a reading, not as a quote."""

    zh: str
    en: str


class Procedure(_Strict):
    """An approval procedure a rule names outside the red line's justification paths (e.g.
    permanent basic farmland: "严格履行审批程序"); a body the text does not name is null."""

    applies_when: list[Case] = Field(default_factory=list)
    organizer_zh: str | None = None
    reviewer_zh: str | None = None
    decider_zh: str | None = None
    document_zh: str
    en: str

    def applies(self, facts: Facts) -> bool:
        return not self.applies_when or matches_any(self.applies_when, facts)

