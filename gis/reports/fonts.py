"""The CJK font of reports and charts.

Debian's ``fonts-wqy-microhei`` (installed by ``scripts/setup.sh``): the PDF reports name its
family in their CSS (fontconfig finds it for WeasyPrint/Pango, which embeds the glyphs
used), and matplotlib draws Chinese map legends and chart labels with the file itself.
"""

from __future__ import annotations

from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
