"""The portal's words, read from the message catalogue (``gis/messages``).

Chinese is the working language of the bureaus; English is a switch (``?lang=en``) for
reviewers and API consumers. The portal keeps no words of its own: its UI strings are the
catalogue's ``portal.*`` messages (``gis/messages/portal.yaml``), enum labels (verdicts,
finding kinds, statuses, purposes, units ...) are ``labels.yaml``, layer, field and class names
the layer catalogue. A missing translation is therefore a missing key, which the catalogue's
loader and ``tests/test_portal_strings.py`` catch, rather than a half-English page.
"""

from __future__ import annotations

from functools import cache

from gis.messages import LANGS, Lang, keys, label_groups, labels, template

__all__ = ["LANGS", "Lang", "lang_of", "other_lang", "page_labels", "strings"]

#: The catalogue keys of the portal's words start with this; pages use them without it.
PREFIX = "portal."


def lang_of(value: str | None) -> Lang:
    """The page language from ``?lang=``: English only when asked for, else Chinese."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def other_lang(lang: Lang) -> Lang:
    """The language the page's switch leads to."""
    return "en" if lang == "zh" else "zh"


@cache
def _strings(lang: Lang) -> dict[str, str]:
    # Raw templates: the portal's placeholders ({z}, {total} ...) are filled in by the browser
    # script that shows the text (``OneMap.t``), not by ``gis.messages.text``.
    return {key.removeprefix(PREFIX): template(key, lang) for key in keys(PREFIX)}


def strings(lang: Lang) -> dict[str, str]:
    """The portal's words in ``lang``, keyed without the ``portal.`` prefix (``t.app_title``
    in a template, ``t('app_title')`` in a script)."""
    return dict(_strings(lang))


def page_labels(lang: Lang) -> dict[str, dict[str, str]]:
    """Every enum label group of ``labels.yaml`` in ``lang`` (``config.labels`` of a page,
    ``OneMap.label(group, value)`` in the scripts)."""
    return {group: labels(group, lang) for group in label_groups()}
