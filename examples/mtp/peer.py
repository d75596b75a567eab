"""A stand-in for another FIPA platform's /acc (docs/mtp.md): prints every message it is sent.

    python3 examples/mtp/peer.py [PORT]        # default 7778, on 127.0.0.1
"""

import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Acc(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        print(self.rfile.read(int(self.headers["Content-Length"])).decode(), flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        """Only the messages, not one access line per request."""


HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 7778), Acc).serve_forever()
