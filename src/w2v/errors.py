"""The one exception type that reaches the user as a message instead of a traceback."""


class UserError(Exception):
    """Bad input or configuration: the message says what, where (file, line, key) and how to fix it.

    The `w2v` command prints it as ``error: <message>`` and exits with status 2.
    """
