"""A local stand-in for Slack's Web API (and response_url), recording every call."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeSlack:
    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._ts = 1000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if "json" in self.headers.get("Content-Type", ""):
                    args = json.loads(raw or b"{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                method = self.path.rsplit("/", 1)[-1]
                with fake._lock:
                    fake.calls.append((method, args))
                    fake._ts += 1
                    ts = f"{fake._ts}.000100"
                reply = {"ok": True}
                if method == "auth.test":
                    reply.update(user_id="UBOT", bot_id="BBOT", team_id="T1", user="qa", team="test")
                elif method in ("chat.postMessage", "chat.update"):
                    reply.update(ts=args.get("ts") or ts, channel=args.get("channel"))
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"
        self.response_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/respond/ephemeral"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def named(self, method: str) -> list[dict]:
        with self._lock:
            return [args for m, args in self.calls if m == method]

    def wait_for(self, predicate, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out; calls so far: {[m for m, _ in self.calls]}")
