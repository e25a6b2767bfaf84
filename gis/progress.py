"""Progress reporting without tying the library to a terminal.

Long work (imports, county-wide analyses) reports stages and steps through this protocol; the
CLI plugs in a rich progress bar, the API and notebooks the silent default.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, description: str, total: int | None = None) -> None:
        """Start a new stage (ends the previous one)."""

    def advance(self, steps: int = 1) -> None:
        """Advance the current stage."""


class NullProgress:
    def stage(self, description: str, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass
