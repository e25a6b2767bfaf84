"""What every command writes to the terminal: the consoles, JSON, and progress bars.

Tables and messages go to stdout through :data:`console`, progress and warnings to stderr
through :data:`err_console`, so ``gis ... --json > file`` captures only the JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from gis.messages import Lang, Message

console = Console()
err_console = Console(stderr=True)


def language() -> Lang:
    """The language of messages in this terminal (:func:`gis.messages.environment_language`)."""
    from gis.messages import environment_language

    return environment_language()


def print_json(data: Any) -> None:
    """Indented UTF-8 JSON on stdout (Chinese stays readable; dates and decimals as text)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class BarProgress:
    """Adapts the library's progress protocol (:class:`gis.progress.Progress`) to a rich
    progress bar on stderr: each stage is a bar, and starting one completes the previous.
    Stage descriptions that are catalogue messages are shown in the terminal's language."""

    def __init__(self, progress: RichProgress, lang: Lang | None = None) -> None:
        self._progress = progress
        self._task: Any = None
        self._lang: Lang = lang or language()

    def stage(self, description: str | Message, total: int | None = None) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, completed=task.total or 1, total=task.total or 1)
        shown = description if isinstance(description, str) else description.render(self._lang)
        self._task = self._progress.add_task(escape(shown), total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)

    def finish(self) -> None:
        """Complete the last stage and show a final ``done``."""
        from gis.messages import msg

        self.stage(msg("progress.done"), 1)
        self.advance(1)


@contextmanager
def progress_bar() -> Iterator[BarProgress]:
    """A live progress display on stderr for the duration of the block."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                  transient=False) as bar:
        yield BarProgress(bar)
