"""A client of the MM mesh for Python programs: call any tool of any service through mesh-proxy.

Standard library only (Python 3.8+). Copy this one file next to your program, or put its folder on
PYTHONPATH. The proxy is MESH_PROXY_URL (default http://127.0.0.1:6001), the token MESH_TOKEN
(when the proxy has one), and your name in the proxy's audit trail MESH_CALLER (default: the
script's name).

    import mesh

    mesh.wait_for("fs", timeout=15)
    result = mesh.call("fs", "analyze_narrative_structure", path="chapter1.txt")
    print(result.data["word_count"])        # structured content, or the JSON of the text

    try:
        mesh.call("fs", "read_text", path="missing.txt")
    except mesh.ToolError as error:         # the tool ran and said no
        print(error.message)
    except mesh.MeshError as error:         # the mesh could not run it: error.code names why
        print(error.code, error.message)

Several proxies or names at once: `client = mesh.Mesh(proxy="http://127.0.0.1:7001", caller="app")`
and the same methods on it. A client is safe to share between threads (one connection each).
"""

import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

__all__ = [
    "Mesh", "ToolResult", "call", "services", "service", "tools", "status", "wait_for",
    "MeshError", "ToolError", "ServiceNotFound", "ToolNotFound", "ServiceUnavailable",
    "CallTimeout", "LoopDetected", "Unauthorized", "ProxyUnreachable",
]

DEFAULT_PROXY = "http://127.0.0.1:6001"
DEFAULT_TIMEOUT = 60.0
# The proxy answers a call's own deadline with CALL_TIMEOUT naming the service; the socket waits a little longer.
_GRACE = 2.0
# A kept-alive connection idle this long is reopened rather than reused (the proxy closes idle ones after 5 s).
_IDLE_REOPEN = 4.0


class MeshError(Exception):
    """The mesh could not serve a request. `code` is the proxy's error code (SERVICE_NOT_FOUND,
    CALL_TIMEOUT, UNAUTHORIZED...), `http_status` the proxy's HTTP status (None when it never
    answered), `details` the rest of the proxy's error answer (available tools, states...)."""

    def __init__(self, code, message, http_status=None, service=None, tool=None, details=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.service = service
        self.tool = tool
        self.details = details or {}


class ServiceNotFound(MeshError):
    """No service of that name is registered."""


class ToolNotFound(MeshError):
    """The service has no tool of that name (details["available"] lists its tools when the proxy says)."""


class ServiceUnavailable(MeshError):
    """The service has no healthy instance, or did not reach the wanted status in time (wait_for)."""


class CallTimeout(MeshError):
    """The call did not finish within its deadline."""


class LoopDetected(MeshError):
    """The call went around the mesh too many times (a service calling itself through others)."""


class Unauthorized(MeshError):
    """The proxy wants a token (MESH_TOKEN) and got none, or a wrong one."""


class ProxyUnreachable(MeshError):
    """Nothing answered at the proxy's address (is `mesh up` or mesh-proxy running?)."""


class ToolError(MeshError):
    """The tool ran and reported an error (its result had isError). `result` is that result."""

    def __init__(self, result, service, tool):
        text = result.text or "the tool reported an error without a message"
        super().__init__("TOOL_ERROR", text, 200, service, tool)
        self.result = result


_TYPED = {
    "SERVICE_NOT_FOUND": ServiceNotFound,
    "TOOL_NOT_FOUND": ToolNotFound,
    "SERVICE_UNAVAILABLE": ServiceUnavailable,
    "CALL_TIMEOUT": CallTimeout,
    "LOOP_DETECTED": LoopDetected,
    "UNAUTHORIZED": Unauthorized,
}
# An answer without a mesh code (a 401 from the token check, another server on the port...).
_BY_STATUS = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE",
              503: "SERVICE_UNAVAILABLE", 504: "CALL_TIMEOUT", 508: "LOOP_DETECTED"}


class ToolResult(dict):
    """A tool's result as the MCP server gave it (content, structuredContent, isError), with helpers."""

    @property
    def text(self):
        """The text of its text blocks, joined by newlines."""
        return "\n".join(block.get("text", "") for block in self.get("content", []) if block.get("type") == "text")

    @property
    def data(self):
        """Its structured content, else its text read as JSON, else its text."""
        if self.get("structuredContent") is not None:
            return self["structuredContent"]
        try:
            return json.loads(self.text)
        except ValueError:
            return self.text


class Mesh:
    """A client of one mesh-proxy. Arguments default to MESH_PROXY_URL, MESH_CALLER and MESH_TOKEN."""

    def __init__(self, proxy=None, caller=None, token=None, timeout=DEFAULT_TIMEOUT):
        # MESH_PROXY_URL may list several proxies of one mesh (comma-separated): this client uses the first.
        self.proxy = (proxy or os.environ.get("MESH_PROXY_URL", "").split(",")[0].strip() or DEFAULT_PROXY).rstrip("/")
        parsed = urllib.parse.urlsplit(self.proxy)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"the proxy URL must be http(s)://host:port, got {self.proxy!r}")
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self.caller = caller or os.environ.get("MESH_CALLER") or _script_name()
        self.token = token if token is not None else os.environ.get("MESH_TOKEN") or None
        self.timeout = timeout
        self._local = threading.local()

    def call(self, service, tool, arguments=None, *, timeout=None, **kwargs):
        """Calls `tool` of `service` with `arguments` (a dict) and/or keyword arguments; returns a
        ToolResult. Raises ToolError when the tool reports an error, a MeshError subclass otherwise."""
        args = dict(arguments or {}, **kwargs)
        deadline = timeout if timeout is not None else self.timeout
        path = f"/v1/services/{_quote(service)}/tools/{_quote(tool)}/call"
        body = {"arguments": args, "deadlineMs": max(1, int(deadline * 1000))}
        answer = self._request("POST", path, body, deadline + _GRACE, service, tool)
        if not isinstance(answer, dict) or not isinstance(answer.get("content"), list):
            raise MeshError("INTERNAL", f"{service}.{tool}: the proxy at {self.proxy} answered without a tool result", service=service, tool=tool)
        result = ToolResult(answer)
        if result.get("isError") is True:
            raise ToolError(result, service, tool)
        return result

    def services(self, status=None, tag=None):
        """Every registered service (dicts: name, status, tags, toolCount, instances...), optionally filtered."""
        query = urllib.parse.urlencode({key: value for key, value in (("status", status), ("tag", tag)) if value})
        return self._request("GET", "/v1/services" + (f"?{query}" if query else ""), None, 10.0)["services"]

    def service(self, name):
        """One service with its instances and tools; raises ServiceNotFound for an unknown name."""
        return self._request("GET", f"/v1/services/{_quote(name)}", None, 10.0, name)

    def tools(self, name):
        """A service's tools (dicts: name, description, inputSchema)."""
        return self._request("GET", f"/v1/services/{_quote(name)}/tools", None, 10.0, name)["tools"]

    def status(self, name):
        """A service's status: healthy, unhealthy, starting, restarting, crashloop..."""
        return self.service(name)["status"]

    def wait_for(self, name, timeout=30.0, status="healthy", interval=0.1):
        """Waits until service `name` has `status` (or one of a tuple of statuses) and returns it;
        a proxy still starting or a service not yet registered counts as not yet. Raises
        ServiceUnavailable naming the last status seen when `timeout` seconds pass first."""
        wanted = (status,) if isinstance(status, str) else tuple(status)
        end = time.monotonic() + timeout
        last = "nothing yet"
        while True:
            try:
                found = self.service(name)
                if found["status"] in wanted:
                    return found
                last = f"status {found['status']}"
            except (ServiceNotFound, ProxyUnreachable) as error:
                last = error.message
            if time.monotonic() + interval > end:
                raise ServiceUnavailable("SERVICE_UNAVAILABLE", f"{name} did not become {' or '.join(wanted)} within {timeout:g} s (last seen: {last})", service=name)
            time.sleep(interval)

    def _request(self, method, path, body, timeout, service=None, tool=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"accept": "application/json", "x-mesh-caller": self.caller}
        if data is not None:
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            connection, reused = self._connection(timeout)
            sent = False
            try:
                connection.request(method, path, body=data, headers=headers)
                sent = True
                response = connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                self._local.used = time.monotonic()
                break
            except (OSError, http.client.HTTPException) as error:
                self._drop()
                # A kept-alive connection the proxy had closed: once more on a new one, if the request cannot
                # have run (it failed while being sent, or it only reads); a call the proxy may have received is never sent twice.
                stale = isinstance(error, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                if reused and attempt == 1 and stale and (not sent or method == "GET"):
                    continue
                if isinstance(error, socket.timeout):
                    raise CallTimeout("CALL_TIMEOUT", f"no answer from the proxy at {self.proxy} within {timeout:g} s", service=service, tool=tool) from error
                raise ProxyUnreachable("PROXY_UNREACHABLE", f"cannot reach the mesh proxy at {self.proxy} ({error}); is it running (mesh up, mesh-proxy)?", service=service, tool=tool) from error
        try:
            answer = json.loads(text) if text else None
        except ValueError:
            answer = None
        if 200 <= response.status < 300 and answer is not None:
            return answer
        raise _error_from(response.status, answer, text, self.proxy, service, tool)

    def _connection(self, timeout):
        connection = getattr(self._local, "connection", None)
        idle = time.monotonic() - getattr(self._local, "used", 0.0)
        if connection is not None and idle > _IDLE_REOPEN:
            self._drop()
            connection = None
        if connection is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=timeout)
            self._local.connection = connection
            return connection, False
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, True

    def _drop(self):
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()


def _error_from(http_status, answer, text, proxy, service, tool):
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else _BY_STATUS.get(http_status, "INTERNAL")
    message = error.get("message") if isinstance(error.get("message"), str) else f"the proxy at {proxy} answered HTTP {http_status}: {text.strip()[:300] or '(empty body)'}"
    details = {key: value for key, value in error.items() if key not in ("code", "message")}
    kind = _TYPED.get(code, MeshError)
    return kind(code, message, http_status, service, tool, details)


def _quote(name):
    return urllib.parse.quote(str(name), safe="")


def _script_name():
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return os.path.splitext(script)[0] or "python-app"


_default = None
_default_lock = threading.Lock()


def _client():
    global _default
    with _default_lock:
        if _default is None:
            _default = Mesh()
        return _default


def call(service, tool, arguments=None, *, timeout=None, **kwargs):
    """Calls a tool through the default client (MESH_PROXY_URL, MESH_CALLER, MESH_TOKEN). See Mesh.call."""
    return _client().call(service, tool, arguments, timeout=timeout, **kwargs)


def services(status=None, tag=None):
    """Every registered service. See Mesh.services."""
    return _client().services(status=status, tag=tag)


def service(name):
    """One service with its instances and tools. See Mesh.service."""
    return _client().service(name)


def tools(name):
    """A service's tools. See Mesh.tools."""
    return _client().tools(name)


def status(name):
    """A service's status. See Mesh.status."""
    return _client().status(name)


def wait_for(name, timeout=30.0, status="healthy", interval=0.1):
    """Waits for a service's status. See Mesh.wait_for."""
    return _client().wait_for(name, timeout=timeout, status=status, interval=interval)
