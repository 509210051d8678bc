"""Errors a user can act on.

Front ends turn a `UserError` into one line on stderr and exit status 2; anything
else is an internal error (exit status 1). Keep messages to one line that says what
was wrong and, where it helps, what to do instead.
"""


class UserError(Exception):
    """Bad input or usage: a missing file, an invalid option, a corrupt model package."""

    exit_code = 2
