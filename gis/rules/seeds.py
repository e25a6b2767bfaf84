"""The seed documents as the rule profiles cite them: lines, the documents' own numbering,
and quotes located in the text.

A seed (``../shared/seeds/NNN_<hash>.txt``) is text extracted from a gazette or a district's
bulletin: hard-wrapped lines separated by blank lines, page numbers (``- 21 -``) and page
breaks in the middle of sentences, spaces the extraction left inside words (``于 5%``), and
several documents one after another (a gazette issue, four reform plans). This module reads
one so that a citation can be checked against it:

* **sections**: each line's place in its document's numbering, ``一、`` (level 1),
  ``（一）``/``(一)`` (level 2) and ``1.`` (level 3), as the label ``二(一)2``; numbering
  restarts with each document (a title line ``...实施意见``/``...实施方案`` or ``一、`` again);
* **titles**: the title of the document each line belongs to;
* **quotes**: where a quote is. A quote is the seed's own characters, whitespace aside (the
  seeds' whitespace is an artefact of wrapping and extraction); nothing else is normalised,
  so punctuation (full- or half-width, “” quotes) must be the seed's. An omission inside a
  quote is marked ``……`` (:data:`ELISION`, the Chinese convention): each part between marks
  must follow the one before, with something left out between them;
* **sentences**: the text of a line range cut into sentences at ``。``, without headings,
  item titles and the ``〔责任单位：...〕`` notes (used by ``docs/rules-coverage.md``).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The elision mark in a quote: something of the seed's text is left out here.
ELISION = "……"

_NUMERALS = "一二三四五六七八九十"
_LEVEL1 = re.compile(rf"^([{_NUMERALS}]+)、")
_LEVEL2 = re.compile(rf"^[（(]([{_NUMERALS}]+)[)）]\s*")
_LEVEL3 = re.compile(r"^(\d{1,2})[.．、](?!\d)\s*")
_PAGE_NUMBER = re.compile(r"^-\s*\d+\s*-$")
_TITLE_END = ("实施意见", "实施方案")
_DUTY_NOTE = re.compile(r"[〔\[]责任单位[:：][^〕\]]*[〕\]]")
_SPACE = re.compile(r"\s+")
_BREAK = "\0"


def default_seeds_dir() -> Path:
    """``../shared/seeds`` beside the project checkout (where the tests expect them)."""
    return Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _numeral(text: str) -> int:
    """一 .. 九十九 as an integer (the documents number their parts with these)."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_NUMERALS.index(tens) + 1 if tens else 1) * 10 + (
            _NUMERALS.index(units) + 1 if units else 0)
    return _NUMERALS.index(text) + 1


@dataclass(frozen=True)
class Section:
    """A line's place in its document's numbering (``None`` where a level is not open)."""

    level1: str | None = None
    level2: str | None = None
    item: int | None = None

    def label(self) -> str:
        return "".join((self.level1 or "", f"({self.level2})" if self.level2 else "",
                        str(self.item) if self.item is not None else ""))


@dataclass(frozen=True)
class Located:
    """Where a quote is: the line its first character is on and the line of its last."""

    first: int
    last: int


@dataclass(frozen=True)
class Sentence:
    first: int
    last: int
    text: str


class Seed:
    """One seed file, parsed once (:func:`load_seed`)."""

    def __init__(self, name: str, lines: list[str]) -> None:
        self.name = name
        self.lines = lines
        self.sections: list[Section] = []
        self.titles: list[str | None] = []
        #: Characters of each line where a heading's number (and a title's text) ends: the
        #: rest of the line is the document's text.
        self.heading_end: list[int] = []
        self._sentences: list[Sentence] | None = None
        self._parse()
        chars: list[str] = []
        owner: list[int] = []
        for number, line in enumerate(lines, start=1):
            if self.is_furniture(number):
                continue
            squeezed = _SPACE.sub("", line)
            chars.append(squeezed)
            owner += [number] * len(squeezed)
        #: The whole text without whitespace and page furniture, and each character's line.
        self.text = "".join(chars)
        self.line_of = owner

    # -- numbering and titles ------------------------------------------------------------

    def _parse(self) -> None:
        title: str | None = None
        level1 = level2 = None
        item: int | None = None
        last_item = 0
        previous = ""
        for line in self.lines:
            text = line.strip()
            end = 0
            if text.endswith(_TITLE_END) and not re.search(r"[，。《》：、]", text):
                # A title, possibly wrapped from the line above it ("...关于...改革" +
                # "...的实施方案"), which then belongs to it as well.
                title = (previous + text) if "关于" in previous and "关于" not in text \
                    else text
                if title != text:  # the line above is the title's first line
                    self.titles[-1] = title
                    self.sections[-1] = Section()
                    self.heading_end[-1] = len(self.lines[len(self.titles) - 1])
                level1 = level2 = item = None
                last_item = 0
                end = len(line)
            elif (m := _LEVEL1.match(text)) and _numeral(m.group(1)) in (
                    1, _numeral(level1) + 1 if level1 else 1):
                level1, level2, item, last_item = m.group(1), None, None, 0
                end = len(line)
            elif (m := _LEVEL2.match(text)) and _numeral(m.group(1)) in (
                    1, _numeral(level2) + 1 if level2 else 1):
                level2, item = m.group(1), None
                end = len(line) - len(text) + m.end()
            elif (m := _LEVEL3.match(text)) and int(m.group(1)) in (1, last_item + 1):
                item = last_item = int(m.group(1))
                end = len(line) - len(text) + m.end()
            self.sections.append(Section(level1, level2, item))
            self.titles.append(title)
            self.heading_end.append(end)
            previous = text

    def is_furniture(self, number: int) -> bool:
        """A page number line (``- 21 -``): not part of any document's text."""
        return bool(_PAGE_NUMBER.match(self.lines[number - 1].strip()))

    def section(self, number: int) -> Section:
        return self.sections[number - 1]

    def title(self, number: int) -> str | None:
        """The title of the document line ``number`` belongs to (None before the first)."""
        return self.titles[number - 1]

    def range_label(self, first: int, last: int) -> str | None:
        """The section label of lines ``first``-``last``: ``二(二)7``, or ``二(二)7-8`` for
        consecutive items of one part; None if the range crosses parts or documents."""
        a, b = self.section(first), self.section(last)
        if self.title(first) != self.title(last):
            return None
        if a == b:
            return a.label()
        if (a.level1, a.level2) == (b.level1, b.level2) and None not in (a.item, b.item):
            return f"{a.label()}-{b.item}"
        return None

    # -- quotes --------------------------------------------------------------------------

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character offsets [start, end) of lines ``first``-``last`` in :attr:`text`."""
        return bisect_left(self.line_of, first), bisect_right(self.line_of, last)

    def locate(self, quote: str, first: int = 1, last: int | None = None) -> list[Located]:
        """Every place ``quote`` is found starting within lines ``first``-``last`` (the
        whole seed by default), each the earliest reading of its parts."""
        parts = quote_parts(quote)
        start, end = self.span(first, last or len(self.lines))
        found = []
        at = self.text.find(parts[0], start)
        while 0 <= at < end:
            stop = _follow(self.text, parts, at)
            if stop is not None:
                found.append(Located(self.line_of[at], self.line_of[stop - 1]))
            at = self.text.find(parts[0], at + 1)
        return found

    # -- sentences -----------------------------------------------------------------------

    def sentences(self, first: int, last: int) -> list[Sentence]:
        """The whole sentences that lines ``first``-``last`` touch (cut at ``。``), without
        titles, headings, item titles and duty notes; a leading ``——`` is dropped."""
        if self._sentences is None:
            self._sentences = self._split()
        return [s for s in self._sentences if s.last >= first and s.first <= last]

    def _split(self) -> list[Sentence]:
        stream: list[tuple[str, int]] = []  # (character, line); BREAK ends any fragment
        for number, line in enumerate(self.lines, start=1):
            if self.is_furniture(number) or not line.strip():
                continue
            end = self.heading_end[number - 1]
            rest = line[end:]
            if end:
                stream.append((_BREAK, number))
                # an item's title: up to its first 。, else the rest of the heading line
                stop = rest.find("。")
                rest = rest[stop + 1:] if stop >= 0 else ""
            stream += [(ch, number) for ch in rest if not ch.isspace()]
        joined = "".join(c for c, _ in stream)
        keep = [True] * len(stream)
        for m in _DUTY_NOTE.finditer(joined):
            keep[m.start():m.end()] = [False] * (m.end() - m.start())
        out: list[Sentence] = []
        current: list[tuple[str, int]] = []
        for (c, n), k in zip(stream, keep, strict=True):
            if not k:
                continue
            if c == _BREAK:
                current = []  # a fragment without 。 (a signature, a date) is no sentence
                continue
            current.append((c, n))
            if c == "。":
                text = "".join(ch for ch, _ in current).lstrip("—")
                rest = current[len(current) - len(text):]
                out.append(Sentence(rest[0][1], rest[-1][1], text))
                current = []
        return out


def quote_parts(quote: str) -> list[str]:
    """A quote's parts between elision marks, whitespace removed; ValueError for an empty
    part (a mark at either end, two marks together, or an empty quote)."""
    parts = [_SPACE.sub("", p) for p in _SPACE.sub("", quote).split(ELISION)]
    if any(not p for p in parts):
        raise ValueError(f"empty part in quote {quote!r} (elision mark at an end or doubled)")
    return parts


def _follow(text: str, parts: list[str], at: int) -> int | None:
    """The end of the earliest reading of ``parts`` starting with the first at ``at`` (each
    later part after a gap of at least one character), or None."""
    pos = at + len(parts[0])
    for part in parts[1:]:
        found = text.find(part, pos + 1)
        if found < 0:
            return None
        pos = found + len(part)
    return pos


def matches_whole(quote: str, text: str) -> bool:
    """Whether ``quote`` (with elisions) reads ``text`` from its first character to its
    last (whitespace aside)."""
    parts = quote_parts(quote)
    text = _SPACE.sub("", text)
    if len(parts) == 1:
        return parts[0] == text
    if not text.startswith(parts[0]):
        return False
    pos = len(parts[0])
    for part in parts[1:-1]:
        found = text.find(part, pos + 1)
        if found < 0:
            return False
        pos = found + len(part)
    tail = len(text) - len(parts[-1])
    return tail > pos and text.endswith(parts[-1])


@cache
def load_seed(name: str, folder: Path | None = None) -> Seed:
    path = (folder or default_seeds_dir()) / name
    return Seed(name, path.read_text(encoding="utf-8").splitlines())
