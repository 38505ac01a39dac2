"""Errors the lab raises, shaped like the ones AWS returns.

Every invalid request gets the exception name and message AWS gives, and
changes nothing (the Lab rolls the transaction back).
"""


class AwsError(Exception):
    """An error AWS would return: `code` is the exception name, e.g.
    ``InvalidParameterValueException``; `status` the HTTP status; `hint` the
    lab's own advice, kept apart from AWS's message and shown beside it."""

    def __init__(self, code: str, message: str, status: int = 400, operation: str = "",
                 hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.hint = hint

    def __str__(self) -> str:
        # The AWS CLI's wording, so a user recognises the error from real life.
        if self.operation:
            return (f"An error occurred ({self.code}) when calling the "
                    f"{self.operation} operation: {self.message}")
        return f"{self.code}: {self.message}"


def invalid(message: str, hint: str | None = None) -> AwsError:
    return AwsError("InvalidParameterValueException", message, hint=hint)


class LabError(Exception):
    """A lab-level refusal (a bad lab command, setting or file), not an AWS error."""


class LabFileError(LabError):
    """The lab file cannot be used as asked: not a lab, damaged, from a newer
    esmlab, read-only, busy, or the disk is full. The message is one sentence
    for the user; nothing was written to the file. A screen catches this one
    class to show the sentence and keep running."""


class LabDamaged(LabFileError):
    """The file is not an SQLite database or SQLite cannot read it."""


class LabReadOnly(LabFileError):
    """The file (or its folder) cannot be written: it can still be read."""


class LabBusy(LabFileError):
    """Another process held the lab's write lock past the busy timeout."""


class LabDiskFull(LabFileError):
    """SQLite could not grow the lab file; the command was rolled back."""
