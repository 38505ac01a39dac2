"""Errors the lab raises, shaped like the ones AWS returns.

Every invalid request gets the exception name and message AWS gives, and
changes nothing (the Lab rolls the transaction back).
"""


# Said beside a message the lab wrote itself (`own=True`): no recording of
# AWS's text for that refusal was found, so the user must not take it for AWS's.
OWN_WORDING = "the lab's wording: AWS's own text for this refusal is not recorded"


class AwsError(Exception):
    """An error AWS would return: `code` is the exception name, e.g.
    ``InvalidParameterValueException``; `status` the HTTP status; `hint` the
    lab's own advice, kept apart from AWS's message and shown beside it.
    `own` marks a message in the lab's words, not AWS's (the hint says so)."""

    def __init__(self, code: str, message: str, status: int = 400, operation: str = "",
                 hint: str | None = None, own: bool = False):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.own = own
        self.hint = f"{OWN_WORDING}; {hint}" if own and hint else (OWN_WORDING if own else hint)

    def __str__(self) -> str:
        # The AWS CLI's wording, so a user recognises the error from real life.
        if self.operation:
            return (f"An error occurred ({self.code}) when calling the "
                    f"{self.operation} operation: {self.message}")
        return f"{self.code}: {self.message}"


def invalid(message: str, hint: str | None = None, own: bool = False) -> AwsError:
    return AwsError("InvalidParameterValueException", message, hint=hint, own=own)


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
