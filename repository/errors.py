"""Errors are types, mapped once to HTTP statuses and CLI exit codes.

Every message is written for the librarian who has to act on it: it names the
file, the row and the field when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass


class SenError(Exception):
    http_status = 500
    exit_code = 1


class ConfigError(SenError):
    exit_code = 78  # EX_CONFIG


class NotFound(SenError):
    http_status = 404
    exit_code = 4


class Forbidden(SenError):
    http_status = 403
    exit_code = 5


class StorageError(SenError):
    exit_code = 74  # EX_IOERR


class BadRequest(SenError):
    http_status = 400
    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as possible."""

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class IngestError(SenError):
    """Bad input. Nothing has been written when this is raised."""

    http_status = 422
    exit_code = 3

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SearchUnavailable(SenError):
    """The search index cannot be reached; readers can still open items by link."""

    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE
