"""Logging for the service and the library: one JSON object per line on stderr.

Structured lines (``{"ts": ..., "level": ..., "logger": ..., "msg": ..., "request_id": ...}``)
are what a log collector or ``grep``/``jq`` want; the request id of the request being handled
(set by the API's request middleware through :data:`request_id_var`) is added to every line
logged while it runs, so an error's traceback and its access line share the id the user sees
in the problem details. ``GIS_LOG_LEVEL`` sets the level (default INFO).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

#: The id of the HTTP request being handled in this context, if any.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None)

#: Attributes every LogRecord has; anything else was passed in ``extra=`` and is logged.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "taskName"}
#: Loggers of this project; their lines go to our handler.
PROJECT_LOGGERS = ("gis", "api", "portal")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


_HANDLER_NAME = "onemap-json"


def configure_logging(level: str = "INFO") -> None:
    """Send the project's loggers to stderr as JSON lines at ``level`` (idempotent: calling
    it again only changes the level)."""
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        if not any(h.get_name() == _HANDLER_NAME for h in logger.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.set_name(_HANDLER_NAME)
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
