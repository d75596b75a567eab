"""The real JADE platform in the tests: find the jar, compile the test agents of
``tests/peers/jade`` against it (cached by content hash), boot one main container with the FIPA
HTTP MTP on free ports of 127.0.0.1, start agents in it, and read what they report.

The jar is found through ``CAXTON_JADE_DIR``, else in ``peers/jade`` or ``shared/peers/jade``
next to the checkout. Without it, or without ``java``/``javac``, the tests that need JADE fail
saying so: the suite is meant to talk to the real peer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "tests" / "peers" / "jade"
CACHE = ROOT / ".cache" / "jade-classes"
ENV = "CAXTON_JADE_DIR"
JARS = ("jade-4.6.5.jar", "commons-codec-1.18.0.jar")
PREFIX = "@caxtontest "
PACKAGE = "caxtontest"

Event = dict[str, Any]


class JadeUnavailable(Exception):
    """JADE, Java or the test agents cannot be had; the message says what to do."""


def jade_dir() -> Path:
    """The directory holding JADE's jars (``CAXTON_JADE_DIR``, else next to the checkout)."""
    explicit = os.environ.get(ENV)
    # Else a peers/jade (or shared/peers/jade) directory beside the checkout or beside one of
    # the directories above it, so that a clone made deeper down still finds it.
    candidates = ([Path(explicit)] if explicit else
                  [up / sub / "peers" / "jade" for up in ROOT.parents for sub in ("", "shared")])
    for folder in candidates:
        if all((folder / jar).is_file() for jar in JARS):
            return folder.resolve()
    where = ", ".join(str(c) for c in candidates)
    raise JadeUnavailable(
        f"JADE 4.6.5 not found (looked for {' and '.join(JARS)} in {where}); set {ENV} to the "
        "directory holding them")


def java_tools() -> tuple[str, str]:
    java, javac = shutil.which("java"), shutil.which("javac")
    if java is None or javac is None:
        raise JadeUnavailable("java and javac (JDK 17) are needed for the JADE tests; "
                              "bash scripts/install-test-tools.sh installs them")
    return java, javac


def compiled(jade: Path) -> Path:
    """The test agents' classes, compiled against ``jade`` once per content of the sources and
    the jar and per JDK (under ``.cache/jade-classes/``)."""
    _, javac = java_tools()
    sources = sorted((SOURCES / PACKAGE).glob("*.java"))
    digest = hashlib.sha256(os.path.realpath(javac).encode())  # another JDK: compile again
    for path in [*sources, jade / JARS[0]]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    out = CACHE / digest.hexdigest()[:24]
    if (out / ".done").exists():
        return out
    work = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = subprocess.run(
        [javac, "-nowarn", "-encoding", "UTF-8", "-d", str(work), "-cp", str(jade / JARS[0]),
         *map(str, sources)], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise JadeUnavailable(f"javac failed on {SOURCES}:\n{result.stderr}")
    (work / ".done").write_text("ok\n")
    try:
        work.rename(out)
    except OSError:  # another process was quicker: use its copy
        shutil.rmtree(work, ignore_errors=True)
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class JadePlatform:
    """One JADE main container named ``name`` with the HTTP MTP at ``mtp_url``; its test agents
    reach Caxton's platform ``caxton_platform`` at ``caxton_acc``."""

    def __init__(self, jade: Path, classes: Path, *, caxton_acc: str, caxton_platform: str,
                 log: Path, name: str = "JadePlat") -> None:
        self.name = name
        self._jade, self._classes, self._log_path = jade, classes, log
        self._caxton = (caxton_acc, caxton_platform)
        self.mtp_url = ""
        self.events: list[Event] = []
        self._changed = threading.Condition()
        self._proc: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def start(self, timeout: float = 120.0) -> JadePlatform:
        java, _ = java_tools()
        port, mtp_port = free_port(), free_port()
        self.mtp_url = f"http://127.0.0.1:{mtp_port}/acc"
        classpath = os.pathsep.join([*(str(self._jade / jar) for jar in JARS),
                                     str(self._classes)])
        acc, platform = self._caxton
        self._log = open(self._log_path, "w")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", f"-Dcaxton.acc={acc}",
             f"-Dcaxton.platform={platform}", "-cp", classpath, "jade.Boot",
             "-platform-id", self.name, "-host", "127.0.0.1", "-local-host", "127.0.0.1",
             "-port", str(port), "-local-port", str(port),
             "-mtps", f"jade.mtp.http.MessageTransportProtocol({self.mtp_url})",
             "-agents", f"control:{PACKAGE}.Control"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            bufsize=1, cwd=self._log_path.parent)  # JADE writes APDescription.txt and more
        threading.Thread(target=self._read, daemon=True, name="jade-stdout").start()
        try:
            self.wait(lambda e: e["kind"] == "ready", timeout, "JADE to boot")
        except AssertionError:
            self.stop()
            raise
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with contextlib.suppress(ValueError):  # the pipe closed under us at stop()
            for line in self._proc.stdout:
                if line.startswith(PREFIX):
                    event = json.loads(line[len(PREFIX):])
                    with self._changed:
                        self.events.append(event)
                        self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def log(self) -> str:
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""

    def wait(self, match: Callable[[Event], bool], timeout: float = 60.0,
             what: str = "a JADE event") -> Event:
        """The first event (of all so far, then as they come) that ``match`` accepts."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._changed:
            while True:
                for event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None):
                    raise AssertionError(f"waited {timeout:g}s for {what} in vain; JADE log "
                                         f"tail:\n{self.log()[-3000:]}")
                self._changed.wait(min(left, 0.5))

    def start_agent(self, name: str, cls: str, *args: object, timeout: float = 60.0) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        fields = ["start", name, f"{PACKAGE}.{cls}", *map(str, args)]
        assert not any("\t" in f or "\n" in f for f in fields)
        self._proc.stdin.write("\t".join(fields) + "\n")
        self._proc.stdin.flush()
        found = self.wait(lambda e: e["agent"] == name and e["kind"] in ("started", "error"),
                          timeout, f"start of {name}")
        assert found["kind"] == "started", found

    def result(self, agent: str, timeout: float = 60.0) -> Event:
        return self.wait(lambda e: e["kind"] == "result" and e["agent"] == agent, timeout,
                         f"result from {agent}")

    def messages(self, kind: str, conversation_id: str | None = None) -> list[Event]:
        """The ``recv`` or ``sent`` events (with the agent), of one conversation if given."""
        with self._changed:
            found = [e for e in self.events if e["kind"] == kind]
        return [e for e in found if conversation_id is None
                or e["message"]["conversation_id"] == conversation_id]

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
        if self._log is not None:
            self._log.close()
