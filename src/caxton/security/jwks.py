"""JWK Sets the verifier takes keys from: a file on disk and an OIDC provider's URL.

The file is re-read when it changes (size, mtime or inode: an atomic rename counts) and, at
most once a second, when a token names a key id it lacks. The URL is fetched by pyjwt's
``PyJWKClient`` (http/https only, no redirects, a timeout) in a thread of its own; this module
decides *when*: the set is trusted for ``cache_s``, then refreshed; a token naming an unknown key
id triggers a refresh too, but the URL is fetched at most once per ``refetch_interval_s``
whatever tokens name, so random key ids cannot make us hammer the provider. While a refresh
fails, the last keys fetched stay in use for up to ``STALE_GRACE_S`` past their time.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import structlog
from jwt import PyJWKClient, PyJWTError

from caxton.errors import ConfigError
from caxton.security.jwt_keys import KeyIndex

log = structlog.get_logger("caxton.security")

MAX_JWKS_FILE_BYTES = 1024 * 1024
FILE_RELOAD_INTERVAL_S = 1.0  # re-reads of the file for unknown key ids, at most this often
STALE_GRACE_S = 3600.0


class JwksFile:
    """A JWK Set file; ``ConfigError`` at construction when it cannot be used at all."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._loaded_at = -math.inf
        try:
            self._index = self._read()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"JWT: the JWKS file {path}: {_why(exc)}") from None

    def index(self) -> KeyIndex:
        """The keys, re-read first if the file changed."""
        try:
            stamp = self._stat()
        except OSError:
            return self._index  # being replaced, or gone: keep the keys we have
        if stamp != self._stamp:
            self._reload()
        return self._index

    def reload_for_unknown_kid(self) -> KeyIndex:
        """The keys, re-read if that was not done within the last second (a same-second
        rewrite can keep the mtime)."""
        if self._clock() - self._loaded_at >= FILE_RELOAD_INTERVAL_S:
            self._reload()
        return self._index

    def _reload(self) -> None:
        with self._lock:
            try:
                self._index = self._read()
            except (OSError, ValueError) as exc:
                self._loaded_at = self._clock()
                log.warning("JWKS file unusable; keeping the keys read before",
                            path=str(self.path), error=_why(exc))

    def _read(self) -> KeyIndex:
        stamp = self._stat()
        self._stamp, self._loaded_at = stamp, self._clock()
        if stamp[1] > MAX_JWKS_FILE_BYTES:
            raise ValueError(f"larger than {MAX_JWKS_FILE_BYTES} bytes")
        with self.path.open("rb") as handle:
            document = json.loads(handle.read(MAX_JWKS_FILE_BYTES + 1))
        return KeyIndex.from_jwks(document, str(self.path))

    def _stat(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)


class JwksUrl:
    """An OIDC provider's JWK Set, fetched in the background and cached."""

    def __init__(self, url: str, *, cache_s: float, timeout_s: float, refetch_interval_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._cache_s = cache_s
        self._interval = refetch_interval_s
        self._clock = clock
        # Caching and refetch policy are ours (above); the client only fetches and parses.
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout_s,
                                   headers={"User-Agent": "caxton-jwks"})
        self._lock = threading.Lock()
        self._index: KeyIndex | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._inflight: Future[None] | None = None
        self._error = ""
        self.fetches = 0  # fetches started, for tests and metrics

    def plan(self, kid: str | None) -> tuple[KeyIndex | None, Future[None] | None]:
        """The keys at hand, and the fetch under way if the set is due a refresh or lacks
        ``kid``: one is started when none runs and the refetch interval allows. A caller
        whose ``kid`` is not in the keys waits for the fetch; others use the keys at hand."""
        with self._lock:
            now = self._clock()
            age = now - self._fetched_at
            index = self._index if age < self._cache_s + STALE_GRACE_S else None
            lacks = kid is not None and (index is None or not index.knows(kid))
            if age < self._cache_s and not lacks:
                return index, None
            if self._inflight is None and now - self._attempted_at >= self._interval:
                self._attempted_at = now
                self._inflight = Future()
                self._inflight.set_running_or_notify_cancel()  # so no waiter can cancel it
                self.fetches += 1
                threading.Thread(target=self._fetch, args=(self._inflight,), daemon=True,
                                 name="caxton-jwks-fetch").start()
            return index, self._inflight

    def keys(self) -> KeyIndex | None:
        """The keys at hand (none when never fetched, or stale past the grace)."""
        with self._lock:
            fresh = self._clock() - self._fetched_at < self._cache_s + STALE_GRACE_S
            return self._index if fresh else None

    def trouble(self) -> str:
        """Why the keys may be missing: the last fetch's failure, or one under way."""
        with self._lock:
            if self._inflight is not None:
                return f"the JWKS at {self.url} is being fetched"
            return f"the JWKS at {self.url} could not be fetched: {self._error}" \
                if self._error else ""

    def _fetch(self, done: Future[None]) -> None:
        index: KeyIndex | None = None
        error = ""
        try:
            index = KeyIndex.from_jwks(self._client.fetch_data(), self.url)
        except (PyJWTError, ValueError, OSError) as exc:
            error = _why(exc)
        except Exception as exc:  # a fetch thread must always resolve its waiters
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if index is not None:
                self._index, self._fetched_at, self._error = index, self._clock(), ""
            else:
                self._error = error[:300]
            self._inflight = None
        if index is None:
            log.warning("JWKS fetch failed", url=self.url, error=error)
        done.set_result(None)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
