"""What a draw on a village's flexible quota may be for, and the stated purpose of "other".

Both seeds give the purposes as examples closed by 等: "为重点产业发展、重大工程项目、生态保护
修复等预留弹性空间" (000:856-858, 001:1146-1148). The three named ones are the rule's examples,
not the whole of it: 等 opens the list, so a planner drawing the quota for a public service
facility, say, is within the rule. Such a draw is recorded as ``other`` and must say in words
what it is for (``purpose_note``): an auditor reading the ledger has to see what "other" was,
and a bare "other" would say nothing. A note may accompany a named purpose too.

Which purposes a jurisdiction's rule names, and whether its list is open, is read from its
profile (``quota.village_flexible.purposes``); the codes a ledger row can hold at all are
:data:`gis.rules.models.QuotaPurpose` (the database's CHECK).
"""

from __future__ import annotations

from typing import get_args

from gis.errors import InputError
from gis.messages import DEFAULT_LANG, Lang, label, msg, text
from gis.rules import UnknownProfile, profile_for_division
from gis.rules.models import OTHER_PURPOSE, QuotaPurpose

#: Every purpose code a ledger row can hold.
PURPOSES: tuple[str, ...] = get_args(QuotaPurpose)
#: The longest stated purpose (the database's CHECK on ``purpose_note``): a short phrase
#: such as 村级综合服务设施, not a justification.
MAX_NOTE = 200
#: The refusal of an ``other`` that states no purpose.
NOTE_MISSING = "quota.purpose_note_missing"


def allowed_purposes(village_code: str) -> tuple[str, ...]:
    """The purposes the village's rule admits: its named examples, and ``other`` when its
    list is open (等). A village without a profile or a rule that names none: all codes."""
    try:
        rule = (profile_for_division(village_code).quota or {}).get("village_flexible")
    except UnknownProfile:
        return PURPOSES
    return PURPOSES if rule is None or rule.purposes is None else rule.purposes.allowed


def checked_purpose(village_code: str, purpose: str, note: str | None) -> str | None:
    """Refuse a purpose the village's rule does not admit, and an ``other`` without a stated
    purpose; returns the note as stored (trimmed; None when blank)."""
    allowed = allowed_purposes(village_code)
    if purpose not in allowed:
        raise InputError(msg("quota.bad_purpose", allowed=", ".join(allowed), value=purpose),
                         field="purpose")
    return checked_note(purpose, note)


def checked_note(purpose: str, note: str | None) -> str | None:
    """The stated purpose, trimmed: required for ``other``, at most :data:`MAX_NOTE`
    characters, no NUL (PostgreSQL text cannot hold one)."""
    stated = (note or "").strip() or None
    if stated is None:
        if purpose == OTHER_PURPOSE:
            raise InputError(msg(NOTE_MISSING), field="purpose_note")
        return None
    if "\x00" in stated:
        raise InputError(msg("quota.purpose_note_nul"), field="purpose_note")
    if len(stated) > MAX_NOTE:
        raise InputError(msg("quota.purpose_note_too_long", limit=MAX_NOTE,
                             length=len(stated)), field="purpose_note")
    return stated


def purpose_text(purpose: str, note: str | None, lang: Lang = DEFAULT_LANG) -> str:
    """A purpose as a reader sees it: the label, and for ``other`` the stated purpose
    (其他：村级综合服务设施); a note on a named purpose follows in brackets."""
    if not note:
        return label("purpose", purpose, lang)
    if purpose == OTHER_PURPOSE:
        return text("quota.purpose_other", lang, note=note)
    return text("quota.purpose_with_note", lang, label=label("purpose", purpose, lang),
                note=note)
