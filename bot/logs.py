"""Logging for `newsbot serve` and `newsbot chat`: the bot token never reaches a log line.

The Bot API puts the token in every request URL (`.../bot<token>/sendMessage`), and httpx logs
those URLs at INFO; exceptions from the network layer may quote them too. A filter on the
handlers rewrites each record (message, arguments and traceback) before it is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

REDACTED = "[REDACTED]"
# Loggers that are chatty at INFO (httpx: one line per request, with the token in the URL).
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "sentence_transformers", "transformers")


def secret_parts(token: str | None) -> list[str]:
    """The strings to hide for a bot token: the token and its secret half after the bot id."""
    if not token:
        return []
    _, _, secret = token.partition(":")
    return [token, secret] if len(secret) >= 8 else [token]


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's rendered message and traceback; never drops a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so the whole token is replaced before its secret half
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(
    secrets: Iterable[str], handlers: Iterable[logging.Handler] | None = None
) -> RedactingFilter:
    """Put a `RedactingFilter` on `handlers` (default: the root logger's current handlers).

    Filters on handlers see records from every logger; a filter on a logger would only see
    that logger's own records, not those propagated from `httpx` or `telegram`.
    """
    redacting = RedactingFilter(secrets)
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        handler.addFilter(redacting)
    return redacting


def setup_logging(
    secrets: Iterable[str],
    *,
    verbose: bool = False,
    quiet: bool = False,
    logfile: Path | None = None,
) -> RedactingFilter:
    """Log to stderr (or to `logfile`, e.g. while a terminal chat owns the screen) at INFO
    (DEBUG with `verbose`, WARNING with `quiet`), secrets redacted. Returns the filter, to
    redact text printed outside logging too."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    if logfile is not None:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        logfile.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(logfile, encoding="utf-8")
        handler.setFormatter(logging.Formatter(log_format))
        root.addHandler(handler)
    logging.basicConfig(format=log_format)
    logging.getLogger().setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return install_redaction(secrets)
