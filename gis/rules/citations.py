"""Checking every citation of a rule profile against the seed text it cites.

For each cited entry of a profile (rule, quota rule and the purposes it names, target,
justification path, the monitoring and terrain citations when set) the checker asks:

* **the quote** is the seed's, whitespace aside, with every omission marked ``……``
  (:data:`gis.rules.seeds.ELISION`); a rule's and a quota rule's quote is its ``text_zh``,
  the others carry theirs in ``citation.quote``;
* **the lines** are exactly those the quote spans: the range starts at the line where the
  quote starts and ends at the line where it ends (no line more, none less);
* **the section** is the seed's own numbering of those lines (``二(一)2``; ``二(二)7-8`` for
  consecutive items), optionally preceded by the name of the part of a compilation
  (``土地权改革 二(一)1``), which is required when the cited document's title does not name
  the part the lines are in, and must then be words of that part's title;
* **the document** is the one the lines are in: its title names the seed's title of that part,
  or the section names the part.

Conditions quote a part of their rule's cited lines (a rule's condition) or of their
activity's text (an activity's condition), unless they cite lines of their own, which are
then checked like a rule's (exact lines, section); the 9 limited activities and the 6 national major
projects quote the lines of the rule admitting them (``redline.general_zone``), with marked
omissions. ``other_activities`` are the system's own categories and quote nothing, except
one that is a case of a limited activity (``HOUSING``), which quotes the lines of its own
justification path.

The problems are developer diagnostics (read in a failing test), not messages for users.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gis.rules.models import Citation, Condition, Profile
from gis.rules.seeds import ELISION, Seed, load_seed, quote_parts

#: The rule whose cited lines hold the enumerations of the 9 activities and 6 projects.
ADMITTING_RULE = "redline.general_zone"
_LABEL = re.compile(r"^(?:(\S+) )?([一二三四五六七八九十]+(?:\([一二三四五六七八九十]+\))?"
                    r"(?:\d+(?:-\d+)?)?)$")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Problem:
    profile: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.profile} {self.where}: {self.what}"


def cited_entries(profile: Profile) -> Iterator[tuple[str, str | None, Citation]]:
    """Every cited entry: (where, quote, citation)."""
    for rule_id, rule in profile.rules.items():
        yield f"rules.{rule_id}", rule.text_zh, rule.citation
    for key, quota in (profile.quota or {}).items():
        if quota is not None:
            yield f"quota.{key}", quota.text_zh, quota.citation
        if quota is not None and quota.purposes is not None:
            yield f"quota_purposes.{key}", quota.purposes.citation.quote, quota.purposes.citation
    for key, target in profile.targets.items():
        yield f"targets.{key}", target.citation.quote, target.citation
    for path in profile.justification_paths:
        yield f"justification_paths.{path.id}", path.citation.quote, path.citation
    for name, section in (("monitoring", profile.monitoring), ("terrain", profile.terrain)):
        if section.citation is not None:
            yield name, section.citation.quote, section.citation


def check_profile(profile: Profile, seeds: Path | None = None) -> list[Problem]:
    """Everything wrong with ``profile``'s citations (an empty list when all hold)."""
    problems: list[Problem] = []

    def add(where: str, what: str) -> None:
        problems.append(Problem(profile.id, where, what))

    for where, quote, citation in cited_entries(profile):
        has_text = where.startswith(("rules.", "quota."))
        if has_text and citation.quote is not None:
            add(where, "quotes in text_zh; citation.quote must be left out")
        for what in check_citation(profile, quote, citation, seeds):
            add(where, what)
    for rule_id, rule in profile.rules.items():
        for condition in rule.conditions:
            where = f"rules.{rule_id}.conditions.{condition.id}"
            if condition.citation is not None:
                problems += _own_citation(profile, where, condition, seeds)
                continue
            for what in _check_within(condition.zh, rule.citation, seeds):
                add(where, what)
    admitting = profile.rules.get(ADMITTING_RULE)
    for activity in profile.activities:
        where = f"activities.{activity.code}"
        for condition in activity.conditions:
            if condition.citation is not None:
                problems += _own_citation(profile, f"{where}.conditions.{condition.id}",
                                          condition, seeds)
            elif not _reads(condition.zh, activity.zh):
                add(f"{where}.conditions.{condition.id}",
                    f"{condition.zh!r} is not words of the activity {activity.zh!r}")
        if activity.limited_activity:  # a case of a limited activity with a path of its own
            _, category = profile.activity(activity.code)
            path = profile.justification_path(category, False, False)
            if path is not None:
                for what in _check_within(activity.zh, path.citation, seeds):
                    add(where, what)
        elif activity in (*profile.limited_activities, *profile.national_major_projects):
            if admitting is None:
                add(where, f"no rule {ADMITTING_RULE} whose lines enumerate the activities")
            else:
                for what in _check_within(activity.zh, admitting.citation, seeds):
                    add(where, what)
    return problems


def _own_citation(profile: Profile, where: str, condition: Condition,
                  seeds: Path | None) -> list[Problem]:
    """A condition citing lines of its own: its words are the quote, the lines exact."""
    citation = condition.citation
    assert citation is not None
    whats = check_citation(profile, condition.zh, citation, seeds)
    if citation.quote is not None:
        whats.append("quotes in zh; citation.quote must be left out")
    return [Problem(profile.id, where, what) for what in whats]


def check_citation(profile: Profile, quote: str | None, citation: Citation,
                   seeds: Path | None = None) -> list[str]:
    """The problems of one quote and its citation."""
    if not quote:
        return ["no quote (give citation.quote)"]
    try:
        seed = load_seed(citation.seed, seeds)
        quote_parts(quote)
    except (OSError, ValueError) as exc:
        return [str(exc)]
    first, last = citation.line_range
    if not 1 <= first <= last <= len(seed.lines):
        return [f"lines {citation.lines} are outside {citation.seed}"]
    found = seed.locate(quote)
    if not found:
        return [f"quote not in {citation.seed}" + _hint(seed, quote)]
    exact = [f for f in found if (f.first, f.last) == (first, last)]
    if not exact:
        where = ", ".join(_lines(f.first, f.last) for f in found)
        return [f"cites lines {citation.lines}, the quote is at {where}"]
    return _check_section(profile, seed, citation, first, last)


def _check_section(profile: Profile, seed: Seed, citation: Citation, first: int,
                   last: int) -> list[str]:
    expected = seed.range_label(first, last)
    part_title = _squeeze(seed.title(first) or "")
    document = profile.documents.get(citation.document)
    if expected is None:
        return [f"lines {citation.lines} cross sections or documents"]
    m = _LABEL.match(citation.section)
    if not m:
        return [f"section {citation.section!r} is not a label like 二(一)2; the lines are "
                f"in {expected}"]
    part, label = m.groups()
    problems = []
    if label != expected:
        problems.append(f"section {citation.section!r}: the lines are in {expected}")
    names_part = document is not None and part_title and part_title in _squeeze(
        document.title_zh)
    if part is not None and part not in part_title:
        problems.append(f"section part {part!r} is not words of the title {part_title!r}")
    elif part is None and not names_part:
        problems.append(f"document {citation.document!r} does not name the part "
                        f"{part_title!r}: name it in the section ('<part> {expected}')")
    return problems


def _check_within(quote: str, citation: Citation, seeds: Path | None) -> list[str]:
    """A quote that is a part of ``citation``'s lines (a condition, an activity)."""
    try:
        seed = load_seed(citation.seed, seeds)
        parts = quote_parts(quote)
    except (OSError, ValueError) as exc:
        return [str(exc)]
    first, last = citation.line_range
    start, end = seed.span(first, last)
    inside = seed.text[start:end]
    if not _reads(quote, inside):
        where = ", ".join(_lines(f.first, f.last) for f in seed.locate(quote)) or "nowhere"
        return [f"{ELISION.join(parts)!r} is not in lines {citation.lines} (found: {where})"]
    return []


def _reads(quote: str, text: str) -> bool:
    """Whether ``quote``'s parts are in ``text`` in order, with gaps where marked (the
    earliest reading of each part is the one that leaves the most room for the next)."""
    parts = quote_parts(quote)
    text = _squeeze(text)
    pos = text.find(parts[0])
    if pos < 0:
        return False
    pos += len(parts[0])
    for part in parts[1:]:
        found = text.find(part, pos + 1)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def _hint(seed: Seed, quote: str) -> str:
    """Which part of the quote is not in the seed, and its longest beginning that is."""
    for part in quote_parts(quote):
        if part not in seed.text:
            size = next(n for n in range(len(part), -1, -1) if part[:n] in seed.text)
            return f": {part!r} is not (the seed has {part[:size]!r} then something else)"
    return ": its parts are not in this order"


def _lines(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)
