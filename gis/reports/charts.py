"""Matplotlib charts with Chinese labels (notebooks, ad-hoc figures).

Matplotlib's default fonts have no CJK glyphs: a label such as 星海镇 comes out as empty boxes
with a "Glyph missing" warning. :func:`use_cjk_font` registers the CJK font the set-up script
installs (Debian ``fonts-wqy-microhei``, the same file the PDF reports embed) and puts it first
in matplotlib's sans-serif list. Matplotlib's font cache is built once per user, often before
the font was installed, which is why the file is registered explicitly rather than looked up.
"""

from __future__ import annotations

from pathlib import Path

from gis.errors import ConfigurationError
from gis.messages import msg
from gis.reports.fonts import CJK_FONT

#: The family name matplotlib knows the font by.
CJK_FAMILY = "WenQuanYi Micro Hei"


def use_cjk_font(path: Path | str = CJK_FONT) -> str:
    """Make matplotlib draw Chinese text with the CJK font at ``path``; returns its family.

    Safe to call more than once. Raises :class:`~gis.errors.ConfigurationError` naming the
    Debian package when the font file is missing.
    """
    from matplotlib import font_manager, rcParams

    font = Path(path)
    if not font.exists():
        raise ConfigurationError(msg("report.cjk_font_missing", font=str(font)))
    font_manager.fontManager.addfont(str(font))
    family = font_manager.FontProperties(fname=str(font)).get_name()
    rest = [name for name in rcParams["font.sans-serif"] if name != family]
    rcParams["font.sans-serif"] = [family, *rest]
    rcParams["font.family"] = "sans-serif"
    rcParams["axes.unicode_minus"] = False  # the CJK font has no U+2212 minus sign
    return family


__all__ = ["CJK_FAMILY", "use_cjk_font"]
