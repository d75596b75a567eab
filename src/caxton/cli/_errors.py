"""The CLI's one error type and its exit codes (see docs/operations.md)."""

from __future__ import annotations

EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 1, 2, 3, 4


class CliError(Exception):
    """Printed as one ``error:`` line; the process exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
