"""Progress reporting without tying the library to a terminal.

Long work (imports, county-wide analyses) reports stages and steps through this protocol; the
CLI plugs in a rich progress bar, the API and notebooks the silent default.

A stage's description is what the user reads: a catalogue :class:`~gis.messages.Message`
(``msg("load.stage.validating")``), which each adapter renders in its reader's language (the
CLI's bar in the terminal's, a job's record in Chinese), or a plain string where the caller
already rendered it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gis.messages import Message


class Progress(Protocol):
    def stage(self, description: str | Message, total: int | None = None) -> None:
        """Start a new stage (ends the previous one)."""

    def advance(self, steps: int = 1) -> None:
        """Advance the current stage."""


class NullProgress:
    def stage(self, description: str | Message, total: int | None = None) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass
