"""A stand-in for another FIPA platform in the MTP tests: its /acc endpoint (``Peer``), MTP
bodies written by hand the way JADE writes them, and a client in a separate process that sends
raw HTTP/1.1 requests on one keep-alive connection."""

from __future__ import annotations

import base64
import email.parser
import json
import queue
import re
import ssl
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.conftest import ServerProcess

PLATFORM = "CaxtonTest"  # addressed in lower case below: the platform compares case-insensitively
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
BOUNDARY = "a36869921a26b9d812878b42b8fc2cd"

# The client: a separate process that writes raw HTTP/1.1 requests on ONE connection and reads
# each response before sending the next (keep-alive). stdin: JSON list of base64 requests.
CLIENT = r"""
import base64, json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
requests = [base64.b64decode(r) for r in json.load(sys.stdin)]
sock = socket.create_connection((host, port), timeout=30)
buf = b""
answers = []
for raw in requests:
    sock.sendall(raw)
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed before a response: " + repr(buf))
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    size = int(headers.get("content-length", "0"))
    while len(buf) < size:
        buf += sock.recv(65536)
    body, buf = buf[:size], buf[size:]
    answers.append({"status": int(lines[0].split()[1]), "headers": headers,
                    "body": body.decode("utf-8", "replace")})
sock.close()
print(json.dumps(answers))
"""

# A client that reads answers as JADE's HTTP MTP does (jade.mtp.http.HTTPIO.getResponseCode):
# line by line, skipping lines until one starts with "HTTP/1.", then header lines up to the
# blank one; it never reads a body. Writes each request followed by CRLF, as JADE does, on ONE
# connection. stdin: JSON list of base64 requests; stdout: the status codes, or "stalled".
JADE_CLIENT = r"""
import base64, json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
requests = [base64.b64decode(r) for r in json.load(sys.stdin)]
sock = socket.create_connection((host, port), timeout=3)
reader = sock.makefile("rb")
statuses = []
for raw in requests:
    sock.sendall(raw + b"\r\n")
    try:
        line = reader.readline()
        while line and not line.startswith(b"HTTP/1."):
            line = reader.readline()
        if not line:
            statuses.append("closed")
            break
        statuses.append(int(line.split()[1]))
        while reader.readline().strip():
            pass
    except OSError:
        statuses.append("stalled")
        break
print(json.dumps(statuses))
"""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    envelope: ET.Element
    acl: str
    peer_certificate: dict[str, object] | None = None  # the sender's client certificate (TLS)

    def text(self, tag: str) -> str | None:
        node = self.envelope.find(f"params/{tag}")
        return None if node is None else (node.text or "").strip()

    def names(self, tag: str) -> list[str]:
        return [(n.text or "").strip()
                for n in self.envelope.findall(f"params/{tag}/agent-identifier/name")]

    def urls(self, tag: str) -> list[str]:
        return [(n.text or "").strip() for n in
                self.envelope.findall(f"params/{tag}/agent-identifier/addresses/url")]

    def param(self, name: str) -> str | None:
        """An ACL parameter's value: a word, or a quoted string (unescaped)."""
        found = re.search(r":" + re.escape(name) + r'\s+("(?:[^"\\]|\\.)*"|[^\s()]+)', self.acl)
        if found is None:
            return None
        value = found[1]
        return value[1:-1].replace('\\"', '"') if value.startswith('"') else value


class Peer:
    """Another platform's /acc: an HTTP server on 127.0.0.1 that keeps what it is sent (over
    TLS with ``tls``, a server context)."""

    def __init__(self, tls: ssl.SSLContext | None = None, *, redirect: str | None = None
                 ) -> None:
        """``redirect``: answer every POST ``307 Temporary Redirect`` to that URL."""
        self.inbox: queue.Queue[Received] = queue.Queue()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a JADE MTP server

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                raw = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode() + body
                parts = email.parser.BytesParser().parsebytes(raw).get_payload()
                assert isinstance(parts, list) and len(parts) == 2
                envelope = ET.fromstring(parts[0].get_payload(decode=True))
                acl = parts[1].get_payload(decode=True).decode()
                cert = (self.connection.getpeercert()
                        if isinstance(self.connection, ssl.SSLSocket) else None)
                peer.inbox.put(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                        envelope, acl, cert))
                if redirect is None:
                    self.send_response(200)
                else:
                    self.send_response(307)
                    self.send_header("location", redirect)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:  # handshakes in the accepting thread: enough for a test
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/acc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next(self, timeout: float = 20) -> Received:
        return self.inbox.get(timeout=timeout)

    def quiet(self, seconds: float = 1.0) -> bool:
        try:
            self.inbox.get(timeout=seconds)
        except queue.Empty:
            return True
        return False


def acc(server: ServerProcess) -> str:
    return server.url + "/acc"


def jade_body(server: ServerProcess, peer: Peer, *, receiver: str = "echo@caxtontest",
              conversation: str = "conv-1", content: str = "hello", extra: str = "",
              date: str = "20261123Z121537682", representation: str = "fipa.acl.rep.string.std",
              payload: bytes | None = None, sender: str = "buyer@jade",
              sender_url: str | None = None) -> tuple[str, bytes]:
    """An MTP body as JADE writes one, by hand: the variant date, spaces JADE puts, CRLFs.

    The sender is ``sender`` at ``sender_url`` (else at ``peer``'s URL)."""
    url = sender_url or peer.url
    if payload is None:
        payload = (
            f"(REQUEST\n :sender  ( agent-identifier :name {sender}  :addresses (sequence "
            f"{url} ))\n :receiver  (set ( agent-identifier :name {receiver}  :addresses "
            f"(sequence {acc(server)} )) )\n :content  \"{content}\" \n :reply-with  r-1\n"
            f" :language  fipa-sl \n :ontology  shop \n :protocol  fipa-request\n"
            f" :conversation-id  {conversation} {extra})").encode()
    aid = (f"<agent-identifier><name>{receiver}</name><addresses><url>{acc(server)}</url>"
           f"</addresses></agent-identifier>")
    envelope = (
        f'<?xml version="1.0"?>\n<envelope><params index="1"><to>{aid}</to><from>'
        f"<agent-identifier><name>{sender}</name><addresses><url>{url}</url></addresses>"
        f"</agent-identifier></from><acl-representation>{representation}</acl-representation>"
        f"<payload-length>{len(payload)}</payload-length><date>{date}</date>"
        f"<intended-receiver>{aid}</intended-receiver></params></envelope>").encode()
    body = (b"This is not part of the MIME multipart encoded message.\r\n--" + BOUNDARY.encode()
            + b"\r\nContent-Type: application/xml\r\n\r\n" + envelope + b"\r\n--"
            + BOUNDARY.encode() + b"\r\nContent-Type: application/text\r\n\r\n" + payload
            + b"\r\n--" + BOUNDARY.encode() + b"--\r\n")
    return f'multipart/mixed ; boundary="{BOUNDARY}"', body


def request(server: ServerProcess, content_type: str, body: bytes, *,
            target: str = "/acc") -> bytes:
    host = server.url.removeprefix("http://")
    return (f"POST {target} HTTP/1.1\r\nHost: {host}\r\nCache-Control: no-cache\r\n"
            f"Mime-Version: 1.0\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def client(server: ServerProcess, *requests: bytes) -> list[dict]:
    """Send ``requests`` on one connection from a separate process; their responses."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    result = subprocess.run(
        [sys.executable, "-c", CLIENT, host, port], capture_output=True, text=True, timeout=60,
        input=json.dumps([base64.b64encode(r).decode() for r in requests]))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def post(server: ServerProcess, content_type: str, body: bytes) -> dict:
    return client(server, request(server, content_type, body))[0]


def jade_client(server: ServerProcess, *requests: bytes) -> list[int | str]:
    """Send ``requests`` the way JADE's MTP does, on one connection; the answers' statuses."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    result = subprocess.run(
        [sys.executable, "-c", JADE_CLIENT, host, port], capture_output=True, text=True,
        timeout=60, input=json.dumps([base64.b64encode(r).decode() for r in requests]))
    assert result.returncode == 0, result.stderr
    statuses: list[int | str] = json.loads(result.stdout)
    return statuses
