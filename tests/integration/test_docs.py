"""Every command the docs show runs, against a live server, and does what the page says.

The shell blocks of README.md and docs/*.md are run in order, one page at a time, each page
against its own server (fresh data directory), from a scratch directory where `examples/`,
`tests/fixtures/`, `scripts/`, `sdk/` and `wit/` of the repository are at hand.

The convention (docs/index.md, "Trying the examples"):

* ```console blocks: `$ ` starts a command (a line ending in `\\` continues it); the lines up to
  the next command are its output. ```bash blocks: every line that is not a comment is a
  command. Both are run.
* A block right after an HTML comment `<!-- no-run -->` (optionally `<!-- no-run: why -->`) is
  not run: installing, starting a server, or a second platform.
* `<!-- docs-test server: NAME=VALUE ... -->` anywhere in a page sets environment variables of
  the page's server (e.g. `CAXTON_PLATFORM_NAME=alpha`).
* Addresses: the pages use `http://127.0.0.1:18090` for REST and `127.0.0.1:50051` for gRPC
  (`--port 18090`, `--grpc-port 50051`); the test puts its server's addresses in their place
  (and sets CAXTON_SERVER, CAXTON_GRPC_SERVER and S, as the pages ask the reader to), with
  CAXTON_DATA_DIR the server's data dir and CAXTON_TOKEN its admin key.
* The output is checked loosely: a shown `error:` line (grpcurl's `ERROR:`) means the command
  must fail with an error that starts with the same three words; otherwise the command must
  succeed and the first word it is shown printing must be in what it printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.conftest import ROOT, ServerProcess

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
AT_HAND = ("examples", "tests", "scripts", "sdk", "wit", "protos")
DOC_REST = "127.0.0.1:18090"
DOC_GRPC = "127.0.0.1:50051"
COMMAND_TIMEOUT_S = 90.0
# Variables bash keeps itself (read-only, or about the shell): not carried to the next command.
_SHELL_OWN = (r"^declare -[a-zA-Z]*r|^declare -[a-zA-Z-]* (BASH[A-Z_]*|FUNCNAME|GROUPS|PIPESTATUS|"
              r"SHLVL|PWD|OLDPWD|SHELLOPTS|BASHOPTS|EUID|PPID|UID|_|__rc|COLUMNS|LINES|RANDOM|"
              r"SECONDS|LINENO|HISTCMD|EPOCH[A-Z]*|SRANDOM|DIRSTACK)=")
_FENCE = re.compile(r"^```(bash|console)\s*$")
_NO_RUN = re.compile(r"^<!--\s*no-run\b.*-->\s*$")


@dataclass
class Command:
    page: str
    line: int  # where it starts in the page
    text: str
    output: list[str] = field(default_factory=list)


def _open_quote(text: str) -> bool:
    """A quote opened and not closed: the command goes on on the next line."""
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return True
    return False


def commands(page: Path) -> list[Command]:
    """The commands of ``page``'s runnable blocks, in order, with the output shown for each."""
    out: list[Command] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        skip = i > 0 and _NO_RUN.match(lines[i - 1]) is not None
        kind, i = fence.group(1), i + 1
        current: Command | None = None
        while i < len(lines) and not lines[i].startswith("```"):
            text, start = lines[i], i + 1
            is_command = (text.startswith("$ ") if kind == "console"
                          else bool(text.strip()) and not text.lstrip().startswith("#"))
            if is_command:
                text = text[2:] if kind == "console" else text
                while (text.endswith("\\") or _open_quote(text)) and i + 1 < len(lines):
                    i += 1
                    text += "\n" + lines[i]  # bash reads a trailing backslash itself
                current = Command(page.name, start, text)
                if not skip:
                    out.append(current)
            elif current is not None and kind == "console":
                current.output.append(text)
            i += 1
        i += 1
    return out


def test_the_parser_reads_both_kinds_of_block(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("\n".join([
        "```console", "$ caxton a \\", "    --b c", "out 1", "out 2", "$ caxton d", "```",
        "<!-- no-run: needs another platform -->", "```console", "$ skipped", "```",
        "```bash", "# a comment", "one --x   # trailing", "", "two -d '{", "  \"a\": 1}'",
        "```",
        "```python", "not_a_command()", "```"]))
    found = [(c.text, c.output, c.line) for c in commands(page)]
    assert found == [("caxton a \\\n    --b c", ["out 1", "out 2"], 2), ("caxton d", [], 6),
                     ("one --x   # trailing", [], 14), ("two -d '{\n  \"a\": 1}'", [], 16)]


def _shown_error(output: list[str]) -> str | None:
    """The error the page shows: the CLI's `error:` line, or grpcurl's `ERROR:` and code."""
    shown = [ln.strip() for ln in output]
    for i, line in enumerate(shown):
        if line.startswith("error:"):
            return line
        if line == "ERROR:" and i + 1 < len(shown):
            return f"ERROR: {shown[i + 1]}"
    return None


_WORD = re.compile(r"(?<![\w.:\-])[A-Za-z_][\w.\-]*")


def _first_word(output: list[str]) -> str | None:
    """The first word of the shown output (``name`` of ``{"name": ...``), if any."""
    for line in output:
        if line.strip() in ("", "...", "…") or line.lstrip().startswith("#"):
            continue
        found = _WORD.search(line)
        return found.group(0) if found else None
    return None


class Shell:
    """Commands in one scratch directory; exported variables, shell functions and `cd` carry
    over from one to the next."""

    def __init__(self, work: Path, env: dict[str, str], rest: str, grpc: str) -> None:
        self.work, self.env = work, env
        self.rest, self.grpc = rest, grpc
        self.state = work / ".state"
        self.state.mkdir()
        (self.state / "cwd").write_text(str(work))
        (self.state / "env").write_text("")
        self.groups: list[int] = []
        self.count = 0

    def run(self, command: Command) -> subprocess.CompletedProcess[str]:
        text = command.text.replace(DOC_REST, self.rest).replace(DOC_GRPC, self.grpc)
        text = text.replace(f"--port {DOC_REST.rsplit(':', 1)[1]}",
                            f"--port {self.rest.rsplit(':', 1)[1]}")
        text = text.replace(f"--grpc-port {DOC_GRPC.rsplit(':', 1)[1]}",
                            f"--grpc-port {self.grpc.rsplit(':', 1)[1]}")
        script = (f'source {shlex.quote(str(self.state / "env"))} 2>/dev/null\n'
                  f'cd "$(cat {shlex.quote(str(self.state / "cwd"))})"\n'
                  f"{text}\n"
                  "__rc=$?\n"
                  f'{{ declare -p | grep -Ev "{_SHELL_OWN}"; declare -f; }} '
                  f'> {shlex.quote(str(self.state / "env"))}\n'
                  f'pwd > {shlex.quote(str(self.state / "cwd"))}\n'
                  "exit $__rc\n")
        # Output goes to files, not pipes: a command may leave a process running (`... &`),
        # which would hold a pipe open.
        self.count += 1  # files of their own: what a command left running writes on to its own
        out_path, err_path = self.state / f"{self.count}.out", self.state / f"{self.count}.err"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(["bash", "-c", script], stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, env=self.env,
                                    start_new_session=True)
        self.groups.append(proc.pid)
        try:
            code = proc.wait(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = -9
        err_text = err_path.read_text(errors="replace")
        if code == -9:
            err_text += f"\n(did not finish in {COMMAND_TIMEOUT_S:g}s: killed)"
        return subprocess.CompletedProcess(proc.args, code, out_path.read_text(errors="replace"),
                                           err_text)

    def close(self) -> None:
        for group in self.groups:  # what a command left running (a `... &`)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)


def check(command: Command, result: subprocess.CompletedProcess[str]) -> str | None:
    """What is wrong with ``result`` given what the page shows, or None."""
    where = f"{command.page}:{command.line}: `{command.text}`"
    printed = result.stdout + result.stderr
    error = _shown_error(command.output)
    if error is not None:
        if result.returncode == 0:
            return f"{where} should fail with {error!r} but succeeded:\n{printed}"
        expected = " ".join(error.split()[:3])
        if expected not in " ".join(printed.split()):
            return f"{where} failed otherwise than shown ({error!r}):\n{printed}"
        return None
    if result.returncode != 0:
        return f"{where} exited {result.returncode}:\n{printed}"
    word = _first_word(command.output)
    if word is not None and word not in printed:
        return f"{where} printed no {word!r}:\n{printed}"
    return None


_SERVER_ENV = re.compile(r"^<!--\s*docs-test server:\s*(.*?)\s*-->\s*$", re.MULTILINE)


def server_env(page: Path) -> dict[str, str]:
    """``<!-- docs-test server: NAME=VALUE ... -->`` in a page: the environment of its server
    (say, the platform name its examples use)."""
    found = _SERVER_ENV.search(page.read_text(encoding="utf-8"))
    pairs = shlex.split(found.group(1)) if found else []
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.fixture
def shell(tmp_path: Path, examples: Path, page: Path) -> Iterator[tuple[Shell, ServerProcess]]:
    server = ServerProcess(tmp_path / "data", env=server_env(page)).start()
    work = tmp_path / "work"
    work.mkdir()
    for name in AT_HAND:
        (work / name).symlink_to(ROOT / name)
    rest = server.url.removeprefix("http://")
    env = {**os.environ, "CAXTON_SERVER": server.url, "CAXTON_GRPC_SERVER": server.grpc_target,
           "CAXTON_DATA_DIR": str(server.data_dir), "CAXTON_TOKEN": server.token,
           "S": server.url, "PYTHON": sys.executable,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("CAXTON_TRANSPORT", None)
    runner = Shell(work, env, rest, server.grpc_target)
    yield runner, server
    runner.close()
    server.stop()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_on_the_page_works(page: Path,
                                          shell: tuple[Shell, ServerProcess]) -> None:
    runner, server = shell
    problems = []
    for command in commands(page):
        problem = check(command, runner.run(command))
        if problem is not None:
            problems.append(problem)
    assert not problems, "\n\n".join(problems) + f"\n\nserver log:\n{server.stderr()[-3000:]}"
