"""Third-party chatter goes to ``logging``, and document text loses characters no answer should carry.

``pypdf`` reports every repaired cross-reference table with ``logger.warning``
("incorrect startxref pointer(2)") and some problems with ``warnings.warn``.
With no logging configured, Python's last-resort handler printed them between
the CLI's own lines.  ``routed_to_logging`` keeps them as log records (at
DEBUG, under ``bot.loaders``) that show only where logging is configured.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator

log = logging.getLogger("bot.loaders")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # NUL and other C0 controls; tab, newline, form feed stay


class _ToDebug(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


@contextlib.contextmanager
def routed_to_logging(name: str) -> Iterator[None]:
    """Within the block, records of logger ``name`` and warnings become DEBUG records of ``bot.loaders``."""
    source = logging.getLogger(name)
    handler = _ToDebug()
    source.addHandler(handler)
    propagate, source.propagate = source.propagate, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for warning in caught:
            log.debug("%s: %s", name, warning.message)
    finally:
        source.removeHandler(handler)
        source.propagate = propagate


def clean_text(text: str) -> str:
    """``text`` without NUL and other control characters (kept: tab, newline, form feed)."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text
