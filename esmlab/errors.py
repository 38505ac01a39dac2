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
    """A problem with the lab file itself (version, corruption), not an AWS error."""
