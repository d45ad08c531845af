"""Errors a user can act on: each message names the problem and the fix."""


class QAError(Exception):
    """Base class: the message is shown to the user as is, without a traceback."""


class IndexNotFound(QAError):
    pass


class IndexMismatch(QAError):
    pass


class BadInput(QAError):
    pass


class NotFound(QAError):
    pass


class Busy(QAError):
    """Another process holds the index's write lock for longer than the caller waits."""


def require_text(value: str, what: str) -> None:
    """Raise `BadInput` when ``value`` is not valid Unicode text (lone surrogates, which
    is how undecodable bytes and broken JSON escapes arrive)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadInput(
            f"{what} contains characters that are not valid text (at position {e.start}: "
            "a lone surrogate or a byte that is not UTF-8); send it as UTF-8 text"
        ) from None
