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
