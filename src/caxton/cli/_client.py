"""A small synchronous REST client for the CLI; every failure becomes one CliError line."""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_SERVER = "http://127.0.0.1:8080"

EXIT_ERROR, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 1, 2, 3, 4


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def server_url(explicit: str | None) -> str:
    url = explicit or os.environ.get("CAXTON_SERVER") or DEFAULT_SERVER
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    return url.rstrip("/")


class ApiClient:
    def __init__(self, server: str | None, timeout: float = 60.0) -> None:
        self.base = server_url(server)
        self._http = httpx.Client(base_url=self.base, timeout=timeout)

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,),
                **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise CliError(
                f"cannot reach the Caxton server at {self.base} (is it running? "
                "set --server or CAXTON_SERVER)", EXIT_UNREACHABLE) from None
        except httpx.TimeoutException:
            raise CliError(f"the server at {self.base} did not answer in time",
                           EXIT_TIMEOUT) from None
        except httpx.HTTPError as exc:
            raise CliError(f"request to {self.base} failed: {exc}", EXIT_UNREACHABLE) from None
        if response.status_code not in expect:
            raise _api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


def _api_error(response: httpx.Response) -> CliError:
    try:
        body = response.json()
        message = body.get("message") or response.text
    except ValueError:
        message = response.text.strip() or response.reason_phrase
    code = EXIT_TIMEOUT if response.status_code == 504 else EXIT_ERROR
    return CliError(f"{message} (HTTP {response.status_code})", code)
