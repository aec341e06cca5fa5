"""HTTP to the AI-DOS core: configuration, auth, JSON calls, streamed uploads and downloads, retries.

Only the standard library: one keep-alive ``http.client`` connection per thread. Proxies are not used (the
core is local-first: a proxy set for the internet must not capture 127.0.0.1).
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import ssl
import threading
import time
from typing import Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote, urlencode, urlsplit

from ._errors import AidosError, AuthenticationError, NotFoundError, ServerUnreachableError

logger = logging.getLogger("aidos")

DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = "aidos-python/0.1.0"

#: Statuses worth another try: the server is busy or briefly down.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Query = Union[Mapping[str, Any], Iterable[Tuple[str, Any]], None]


def token_file_path(env: Mapping[str, str] = os.environ) -> str:
    """``$AIDOS_HOME/token``, ``~/.aidos/token`` by default: where a local server writes its token."""
    home = env.get("AIDOS_HOME") or os.path.join(os.path.expanduser("~"), ".aidos")
    return os.path.join(os.path.abspath(home), "token")


def resolve(
    url: Optional[str] = None, token: Optional[str] = None, env: Mapping[str, str] = os.environ
) -> Tuple[str, str, str]:
    """The server URL, the token and where the token came from (for error messages).

    Arguments first, then ``AIDOS_URL`` / ``AIDOS_TOKEN``, then the local token file.
    """
    url = (url or env.get("AIDOS_URL") or DEFAULT_URL).rstrip("/")
    if token:
        return url, token, "the token argument"
    if env.get("AIDOS_TOKEN"):
        return url, env["AIDOS_TOKEN"], "AIDOS_TOKEN"
    path = token_file_path(env)
    try:
        with open(path, encoding="utf-8") as f:
            found = f.read().strip()
    except FileNotFoundError:
        raise AuthenticationError(
            f"no AI-DOS token: AIDOS_TOKEN is not set and {path} does not exist "
            "(start the server with `aidos serve` first, or set AIDOS_TOKEN to a token or API key)"
        ) from None
    if not found:
        raise AuthenticationError(f"no AI-DOS token: {path} is empty (set AIDOS_TOKEN to a token or API key)")
    return url, found, path


def quote_path(path: str) -> str:
    """A slash-separated path with each segment percent-encoded."""
    return quote(path, safe="/")


def error_from(status: int, body: bytes, url: str, token_source: str) -> AidosError:
    """An error for a 4xx/5xx answer: MLflow's ``{error_code, message}`` or AI-DOS's ``{error: {code, message}}``."""
    code: Optional[str] = None
    message = ""
    try:
        parsed = json.loads(body.decode("utf-8")) if body else {}
    except (ValueError, UnicodeDecodeError):
        parsed = {}
    if isinstance(parsed, dict):
        if isinstance(parsed.get("error"), dict):
            code = parsed["error"].get("code")
            message = str(parsed["error"].get("message", ""))
        else:
            code = parsed.get("error_code")
            message = str(parsed.get("message", ""))
    if not message:
        message = body[:500].decode("utf-8", "replace") or http.client.responses.get(status, "")
    if status in (401, 403):
        what = "refused the token" if status == 401 else "does not allow this token to do that"
        return AuthenticationError(
            f"the AI-DOS server at {url} {what} (HTTP {status} {code or ''}: {message}); "
            f"the token came from {token_source}: set AIDOS_TOKEN to a valid token or API key",
            status,
            code,
        )
    text = f"HTTP {status} {code}: {message}" if code else f"HTTP {status}: {message}"
    if status == 404:
        return NotFoundError(text, status, code)
    if status >= 500 or status == 429:
        return ServerUnreachableError(f"the AI-DOS server at {url} failed: {text}", status, code)
    return AidosError(text, status, code)


class Client:
    """Requests to one server with one token.

    Network failures, 429 and 5xx are retried ``retries`` times with exponential backoff (``backoff`` seconds,
    doubling); then :class:`ServerUnreachableError`. Other 4xx raise at once.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.url, self._token, self.token_source = resolve(url, token)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the AI-DOS URL must be http(s)://host[:port], got {self.url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._base = parts.path.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._local = threading.local()
        self._open: List[http.client.HTTPConnection] = []
        self._open_lock = threading.Lock()

    # Connections

    def _new_connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout, context=ssl.create_default_context()
            )
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        conn.blocksize = 1 << 20
        return conn

    def _connection(self) -> Tuple[http.client.HTTPConnection, bool]:
        """This thread's connection, and whether it was used before (a reused one may have been closed)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        conn = self._new_connection()
        self._local.conn = conn
        with self._open_lock:
            self._open.append(conn)
        return conn, False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with self._open_lock:
                if conn in self._open:
                    self._open.remove(conn)
            conn.close()

    def close(self) -> None:
        """Closes the kept-alive connections of every thread (a later request opens a new one)."""
        with self._open_lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}", "User-Agent": USER_AGENT, "Accept": "application/json"}
        if extra:
            headers.update(extra)
        return headers

    def _target(self, path: str, query: Query) -> str:
        target = self._base + path
        if query:
            items = query.items() if isinstance(query, Mapping) else query
            pairs = [(k, v) for k, v in items if v is not None]
            if pairs:
                target += "?" + urlencode(pairs)
        return target

    # Requests

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query = None,
        body: Union[bytes, BinaryIO, None] = None,
        headers: Optional[Mapping[str, str]] = None,
        stream: bool = False,
    ) -> Tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        """Sends with retries and returns a 2xx response (read by the caller); raises for anything else."""
        target = self._target(path, query)
        start = body.tell() if body is not None and not isinstance(body, bytes) else 0
        attempt = 0
        reused_retry_spent = False
        while True:
            conn, reused = self._connection() if not stream else (self._new_connection(), False)
            try:
                if body is not None and not isinstance(body, bytes):
                    body.seek(start)
                conn.request(method, target, body=body, headers=self._headers(headers))
                response = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                if stream:
                    conn.close()
                else:
                    self._drop_connection()
                if reused and not reused_retry_spent:
                    # A kept-alive connection the server closed in the meantime: try again at once, fresh.
                    reused_retry_spent = True
                    continue
                if attempt >= self.retries:
                    raise ServerUnreachableError(
                        f"could not reach the AI-DOS server at {self.url} ({method} {path}): {e}"
                    ) from e
                self._sleep(attempt, None)
                attempt += 1
                continue
            if 200 <= response.status < 300:
                return response, conn
            data = response.read()
            if stream:
                conn.close()
            elif response.will_close:
                self._drop_connection()
            if response.status in RETRY_STATUSES and attempt < self.retries:
                self._sleep(attempt, response.getheader("Retry-After"))
                attempt += 1
                continue
            raise error_from(response.status, data, self.url, self.token_source)

    def _sleep(self, attempt: int, retry_after: Optional[str]) -> None:
        delay = self.backoff * (2**attempt)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 60.0))
        time.sleep(delay)

    def call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, query: Query = None) -> Any:
        """A JSON request; the parsed JSON answer (``{}`` for an empty one)."""
        data = None
        headers = None
        if body is not None:
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
            headers = {"Content-Type": "application/json"}
        return self._json_answer(self._send(method, path, query=query, body=data, headers=headers)[0])

    def post_bytes(self, path: str, data: bytes) -> Any:
        """POSTs bytes (``application/octet-stream``); the parsed JSON answer."""
        headers = {"Content-Type": "application/octet-stream"}
        return self._json_answer(self._send("POST", path, body=data, headers=headers)[0])

    def _json_answer(self, response: http.client.HTTPResponse) -> Any:
        raw = response.read()
        if response.will_close:
            self._drop_connection()
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}

    def upload(self, path: str, file: BinaryIO, size: int) -> None:
        """PUTs a file's bytes, read from the file as they are sent (never whole in memory)."""
        response, _ = self._send(
            "PUT",
            path,
            body=file,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        response.read()
        if response.will_close:
            self._drop_connection()

    def download(self, path: str, query: Query = None) -> "ResponseStream":
        """A GET answered with bytes, as a readable binary stream on a connection of its own (close it)."""
        response, conn = self._send("GET", path, query=query, stream=True)
        return ResponseStream(response, conn)


class ResponseStream(io.RawIOBase):
    """A response body as a raw binary stream; closing it closes its connection."""

    def __init__(self, response: http.client.HTTPResponse, conn: http.client.HTTPConnection) -> None:
        super().__init__()
        self._response = response
        self._conn = conn
        length = response.getheader("Content-Length")
        self.size: Optional[int] = int(length) if length and length.isdigit() else None
        self.content_type: Optional[str] = response.getheader("Content-Type")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._response.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._conn.close()
        super().close()
