"""What the siting report shows, in one language: every value of the page prepared here
(labels for codes, Beijing time, numbered approval steps, cited rules with their documents'
titles), so the one template (``templates/siting.html``) only lays it out, for the screen
and for the PDF alike.

Every word is the catalogue's (:mod:`gis.reports.words`): headings from ``report.*``,
verdicts, units and yes/no from ``labels.yaml``, activities, documents and profile titles
from the rule profile, layers and zones from the layer catalogue. No code (``general``,
``justification_required``, ``redline_opinions``) reaches a reader.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from gis.analysis.siting_models import ReevaluationNotice
from gis.analysis.siting_runs import StoredRun
from gis.localtime import beijing_text
from gis.messages import Lang, template, text
from gis.reports.words import (
    activity_name,
    document_title,
    label_both,
    layer_name,
    profile_title,
    unit,
    words,
    yes_no,
    zone_name,
)
from gis.rules import load_profile
from gis.rules.models import Profile

#: The fields of a control-line version entry after its layer and version, each shown with
#: its catalogue word (``report.control_line.<field>``) when present.
VERSION_FIELDS = ("basis", "document_no", "approved_by", "effective_date")


class Row(BaseModel):
    """A label and its value in the title block."""

    label: str
    value: str


class RuleView(BaseModel):
    number: int
    verdict: str
    verdict_code: str
    text: str
    original: str | None
    source: str
    conditions: list[str]
    notes: list[str]


def _t(lang: Lang, key: str, **params: Any) -> str:
    return words(key, **params).of(lang)


def page_counter_css(lang: Lang) -> str:
    """``report.page_of`` as a CSS ``content`` value: "第 " counter(page) " 页 共 " ..."""
    parts = re.split(r"(\{pages\}|\{page\})", template("report.page_of", lang))
    out = []
    for part in parts:
        if part in ("{page}", "{pages}"):
            out.append(f"counter({part[1:-1]})")
        elif part:
            out.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(out)


def _area(lang: Lang, m2: float) -> str:
    return text("report.area_value", lang, m2=f"{m2:,.2f}", mu=f"{m2 * 15 / 10000:,.2f}",
                ha=f"{m2 / 10000:,.4f}")


def _citation(profile: Profile, lang: Lang, document: str, section: str) -> str:
    doc = profile.documents.get(document)
    title = document_title(profile, document).of(lang)
    published = doc.published_in if doc and doc.published_in else None
    return _t(lang, "rule_cited", title=title, section=section) + (
        f"（{published}）" if published else "")


def _basis(key: object, lang: Lang) -> str:
    """A version's basis (``approval``, ``unrecorded`` ...) by its name in
    ``gis/layers/version_bases.yaml``; a basis that file no longer has, as stored."""
    from gis.layers.versions import bases

    found = bases().get(str(key))
    return (found.en if lang == "en" else found.zh) if found else str(key)


def _versions(run: StoredRun, lang: Lang) -> str:
    entries = run.control_line_versions
    if entries is None:
        entries = run.result.model_dump(mode="json").get("control_line_versions")
    if not entries:
        return "—"
    shown = []
    for entry in entries:
        layer = layer_name(str(entry.get("layer")), str(entry.get("layer"))).of(lang)
        details = [_t(lang, f"control_line.{f}",
                      value=_basis(entry[f], lang) if f == "basis" else entry[f])
                   for f in VERSION_FIELDS if entry.get(f)]
        head = _t(lang, "control_line.version", layer=layer, version=entry.get("version") or "—")
        shown.append(head + (f"（{'；'.join(details)}）" if lang == "zh" and details
                             else f" ({'; '.join(details)})" if details else ""))
    return "；".join(shown) if lang == "zh" else "; ".join(shown)


def title_rows(run: StoredRun, lang: Lang) -> list[Row]:
    r, p = run.result, run.project
    profile = load_profile(r.profile)
    who = run.requested_by or "—"
    if run.on_behalf_of:
        who += _t(lang, "on_behalf_of", name=run.on_behalf_of)
    rows = [
        ("run", run.id), ("time", _t(lang, "beijing_time", time=beijing_text(run.created_at))),
        ("project_name", p.project_name or "—"), ("project_code", p.project_code or "—"),
        ("applicant", p.applicant or "—"), ("purpose", p.purpose or "—"),
        ("activity", activity_name(profile, r.activity, r.activity_zh).of(lang)),
        ("new_land", yes_no(r.new_construction_land).of(lang)),
        ("temporary", yes_no(r.temporary).of(lang)),
        ("construction", yes_no(r.construction).of(lang)),
        ("linear", yes_no(r.linear).of(lang)),
        ("footprint", _area(lang, r.footprint_area.area_m2)),
        ("input_crs_label", r.footprint_crs),
        ("profile", _t(lang, "profile_version", profile=profile_title(profile).of(lang),
                       version=r.profile_version)),
        ("control_lines", _versions(run, lang)),
        ("checked_by", who),
    ]
    return [Row(label=_t(lang, key), value=value) for key, value in rows]


def approval_steps(run: StoredRun, lang: Lang) -> list[str]:
    """The approval path as numbered steps: who organizes, reviews and decides, and what is
    attached; empty when there is no path."""
    path = run.result.approval_path
    if path is None:
        return []
    steps = [_t(lang, f"step.{role}", body=body) for role, body in (
        ("organizer", path.organizer_zh), ("reviewer", path.reviewer_zh),
        ("decider", path.decider_zh)) if body]
    return [*steps, _t(lang, "step.document", document=path.document_zh)]


def rule_views(run: StoredRun, lang: Lang) -> list[RuleView]:
    r = run.result
    profile = load_profile(r.profile)
    views = []
    for number, f in enumerate(r.rules, start=1):
        conditions = [f"[{text(f'siting.condition.{c.status}', lang)}] "
                      f"{c.en if lang == 'en' else c.zh}" for c in f.conditions]
        notes = [x.en if lang == "en" else x.zh for x in (f.interpretation,) if x]
        if f.procedure:
            notes.append(f.procedure.en if lang == "en" else f.procedure.document_zh)
        views.append(RuleView(
            number=number, verdict=label_both("verdict", f.verdict).of(lang),
            verdict_code=f.verdict, text=f.summary_en if lang == "en" else f.text_zh,
            original=f.text_zh if lang == "en" else None,
            source=_citation(profile, lang, f.citation.document, f.citation.section),
            conditions=conditions, notes=notes))
    return views


def overlap_rows(run: StoredRun, lang: Lang) -> list[dict[str, str]]:
    return [{"layer": layer_name(o.layer, o.layer_zh).of(lang),
             "zone": zone_name(o.layer, o.zone).of(lang), "m2": f"{o.area_m2:,.2f}",
             "mu": f"{o.area_mu:,.2f}", "ha": f"{o.area_ha:,.4f}",
             "share": f"{o.share * 100:.1f}%", "colour_layer": o.layer,
             "features": "；".join(" ".join(x for x in (h.key, h.name) if x)
                                  for h in o.features) or "—"}
            for o in run.result.overlaps]


def view(run: StoredRun, notice: ReevaluationNotice | None, lang: Lang) -> dict[str, Any]:
    """Everything the template needs, in ``lang``."""
    r = run.result
    profile = load_profile(r.profile)
    path = r.approval_path
    if path is None:
        path_note = _t(lang, "no_path")
    elif path.exempt:
        path_note = _t(lang, "path_exempt")
    elif path.required is False:
        path_note = _t(lang, "path_not_required")
    else:
        path_note = None
    return {
        "lang": lang, "run": run, "r": r, "rows": title_rows(run, lang),
        "verdict": label_both("verdict", r.verdict).of(lang), "steps": approval_steps(run, lang),
        "path": path, "path_note": path_note,
        "path_source": _citation(profile, lang, path.citation.document, path.citation.section)
        if path else None,
        "rules": rule_views(run, lang), "overlaps": overlap_rows(run, lang),
        "warnings": [w.message_en if lang == "en" else w.message_zh for w in r.warnings],
        "notice": (notice.message_en if lang == "en" else notice.message_zh) if notice else None,
        "unit": lambda code: unit(code).of(lang), "page_counter": page_counter_css(lang),
        "generated": _t(lang, "generated", profile=profile_title(profile),
                        version=r.profile_version),
    }
