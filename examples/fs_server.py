#!/usr/bin/env python3
"""fs: a stdio MCP server over one folder of text files (Python 3 standard library only).

    python3 examples/fs_server.py [--root DIR]      (else $FS_ROOT, else examples/texts)

Protocol: newline-delimited JSON-RPC 2.0 on stdin/stdout; stdout carries protocol only,
logs go to stderr. The reusable plumbing is `StdioMcpServer`; test fixtures import it.
"""
import argparse
import fnmatch
import json
import os
import queue
import re
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter

SUPPORTED_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
LATEST_VERSION = SUPPORTED_VERSIONS[0]
LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS, INTERNAL_ERROR = (
    -32700, -32600, -32601, -32602, -32603)


class RpcError(Exception):
    """Raised by method handlers to answer with a JSON-RPC error."""

    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class ToolError(Exception):
    """Raised by tool handlers: answered as a normal result with isError: true."""


NO_REPLY = object()  # a tool handler may return this to never answer the request


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def _type_ok(value, expected):
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }
    types = expected if isinstance(expected, list) else [expected]
    return any(checks.get(t, lambda v: True)(value) for t in types)


def validate_args(args, schema):
    """Small JSON Schema subset for tool arguments; returns a problem string or None."""
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in args:
            return f"missing required argument '{name}'"
    for name, value in args.items():
        spec = props.get(name)
        if spec is None:
            if schema.get("additionalProperties", True) is False:
                return f"unknown argument '{name}' (allowed: {', '.join(sorted(props)) or 'none'})"
            continue
        if "type" in spec and not _type_ok(value, spec["type"]):
            return f"argument '{name}' must be of type {spec['type']}, got {type(value).__name__}"
        if "enum" in spec and value not in spec["enum"]:
            return f"argument '{name}' must be one of {spec['enum']}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in spec and value < spec["minimum"]:
                return f"argument '{name}' must be >= {spec['minimum']}"
            if "maximum" in spec and value > spec["maximum"]:
                return f"argument '{name}' must be <= {spec['maximum']}"
        if isinstance(value, str) and len(value) < spec.get("minLength", 0):
            return f"argument '{name}' must have at least {spec['minLength']} character(s)"
    return None


class Call:
    """What a tool handler gets besides its arguments."""

    def __init__(self, server, request_id, params):
        self.server, self.id = server, request_id
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        self.progress_token = meta.get("progressToken")

    @property
    def cancelled(self):
        return self.id in self.server.cancelled_ids

    def progress(self, progress, total=None, message=None):
        if self.progress_token is None:
            return
        params = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        self.server.notify("notifications/progress", params)

    def log(self, level, data, logger=None):
        self.server.log_message(level, data, logger)


class StdioMcpServer:
    """Newline-delimited JSON-RPC MCP server on stdin/stdout.

    Register tools with add_tool() (or the @tool decorator); a handler takes (args, call) and
    returns a str, a list of content blocks, or a full result dict; raising ToolError gives an
    isError result. Set resource_lister / resource_reader to serve resources.
    Tool calls run off the reader thread, so pings and cancellations are answered meanwhile:
    one at a time in arrival order by default, or each on its own thread with concurrent=True.
    """

    def __init__(self, name, version="0.1.0", instructions=None, concurrent=False):
        self.name, self.version, self.instructions = name, version, instructions
        self.concurrent = concurrent
        self.tools = {}  # name -> dict(name, description, inputSchema, handler)
        self.resource_lister = None  # () -> [{"uri", "name", "mimeType", ...}]
        self.resource_reader = None  # (uri) -> [{"uri", "mimeType", "text"}]; raise KeyError if unknown
        self.cancelled_ids = []
        self.initialized = False
        self.protocol_version = None
        self.log_level = "debug"
        self.methods = {  # request handlers: (params, request_id) -> result dict
            "initialize": self._initialize,
            "ping": lambda p, i: {},
            "tools/list": lambda p, i: {"tools": [
                {k: t[k] for k in ("name", "description", "inputSchema")} for t in self.tools.values()]},
            "tools/call": self._tools_call,
            "resources/list": self._resources_list,
            "resources/read": self._resources_read,
            "resources/templates/list": lambda p, i: {"resourceTemplates": []},
            "logging/setLevel": self._set_level,
        }
        self.notification_handlers = {  # (params) -> None
            "notifications/initialized": lambda p: setattr(self, "initialized", True),
            "notifications/cancelled": self._cancelled,
        }
        self._out = None
        self._lock = threading.Lock()
        self._inflight = set()  # tool-call threads still running
        self._queue = queue.Queue()  # sequential mode: calls waiting for the worker

    # ----- registry
    def add_tool(self, name, description, input_schema, handler):
        self.tools[name] = {"name": name, "description": description,
                            "inputSchema": input_schema, "handler": handler}

    def tool(self, name, description, input_schema):
        def register(handler):
            self.add_tool(name, description, input_schema, handler)
            return handler
        return register

    def remove_tool(self, name):
        self.tools.pop(name, None)

    def tools_changed(self):
        self.notify("notifications/tools/list_changed")

    # ----- output
    def write_line(self, text):
        """Write one raw line to the protocol stream (fixtures use it to misbehave)."""
        out = self._out or sys.stdout.buffer
        with self._lock:
            try:
                out.write(text.encode("utf-8") + b"\n")
                out.flush()
            except (BrokenPipeError, ValueError):
                log(f"{self.name}: stdout closed, exiting")
                os._exit(0)

    def send(self, message):
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        # U+2028/2029 are legal in JSON strings but some line readers split on them
        self.write_line(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def log_message(self, level, data, logger=None):
        if LOG_LEVELS.index(level) < LOG_LEVELS.index(self.log_level):
            return
        params = {"level": level, "data": data}
        if logger:
            params["logger"] = logger
        self.notify("notifications/message", params)

    def _reply(self, request_id, result=None, error=None):
        if error is not None:
            self.send({"jsonrpc": "2.0", "id": request_id, "error": error})
        else:
            self.send({"jsonrpc": "2.0", "id": request_id, "result": result})

    @staticmethod
    def _error(code, message, data=None):
        err = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        return err

    # ----- built-in methods
    def _initialize(self, params, _id):
        requested = params.get("protocolVersion")
        self.protocol_version = requested if requested in SUPPORTED_VERSIONS else LATEST_VERSION
        capabilities = {"tools": {"listChanged": True}, "logging": {}}
        if self.resource_lister:
            capabilities["resources"] = {}
        result = {"protocolVersion": self.protocol_version, "capabilities": capabilities,
                  "serverInfo": {"name": self.name, "version": self.version}}
        if self.instructions:
            result["instructions"] = self.instructions
        return result

    def _set_level(self, params, _id):
        level = params.get("level")
        if level not in LOG_LEVELS:
            raise RpcError(INVALID_PARAMS, f"Invalid params: level must be one of {LOG_LEVELS}")
        self.log_level = level
        return {}

    def _cancelled(self, params):
        if "requestId" in params:
            self.cancelled_ids.append(params["requestId"])
            log(f"{self.name}: request {params['requestId']!r} cancelled: {params.get('reason', '')}")

    def _resources_list(self, params, _id):
        if not self.resource_lister:
            raise RpcError(METHOD_NOT_FOUND, "Method not found: resources/list (no resources)")
        return {"resources": self.resource_lister()}

    def _resources_read(self, params, _id):
        if not self.resource_reader:
            raise RpcError(METHOD_NOT_FOUND, "Method not found: resources/read (no resources)")
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise RpcError(INVALID_PARAMS, "Invalid params: 'uri' (string) is required")
        try:
            return {"contents": self.resource_reader(uri)}
        except KeyError as e:
            raise RpcError(INVALID_PARAMS, f"Resource not found: {uri}", {"uri": uri}) from e

    def _tools_call(self, params, request_id):
        name = params.get("name")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "Invalid params: 'name' (string) is required")
        tool = self.tools.get(name)
        if tool is None:
            raise RpcError(INVALID_PARAMS, f"Unknown tool: {name} (available: {', '.join(self.tools)})")
        args = params.get("arguments")
        args = {} if args is None else args
        if not isinstance(args, dict):
            raise RpcError(INVALID_PARAMS, f"Invalid params: 'arguments' for tool {name} must be an object")
        problem = validate_args(args, tool["inputSchema"])
        if problem:
            raise RpcError(INVALID_PARAMS, f"Invalid arguments for tool {name}: {problem}")
        if self.concurrent:
            thread = threading.Thread(target=self._run_tool, args=(tool, args, request_id, params),
                                      name=f"tool-{name}", daemon=True)
            self._inflight.add(thread)
            thread.start()
        else:
            if not self._inflight:
                worker = threading.Thread(target=self._worker, name="tool-worker", daemon=True)
                self._inflight.add(worker)
                worker.start()
            self._queue.put((tool, args, request_id, params))
        return NO_REPLY

    def _worker(self):
        while True:
            job = self._queue.get()
            if job is None:
                return self._inflight.discard(threading.current_thread())
            self._call_tool(*job)

    def _run_tool(self, tool, args, request_id, params):
        try:
            self._call_tool(tool, args, request_id, params)
        finally:
            self._inflight.discard(threading.current_thread())

    def _call_tool(self, tool, args, request_id, params):
        try:
            value = tool["handler"](args, Call(self, request_id, params))
            if value is NO_REPLY:
                return
            if isinstance(value, str):
                result = {"content": [{"type": "text", "text": value}]}
            elif isinstance(value, list):
                result = {"content": value}
            else:
                result = value
        except ToolError as e:
            result = {"content": [{"type": "text", "text": str(e)}], "isError": True}
        except Exception as e:  # a failing tool is a tool error, not a dead server
            log(f"{self.name}: tool {tool['name']} failed: {e!r}")
            result = {"content": [{"type": "text", "text": f"{type(e).__name__}: {e}"}], "isError": True}
        if request_id in self.cancelled_ids:
            log(f"{self.name}: dropping response to cancelled request {request_id!r}")
            return
        self._reply(request_id, result)

    # ----- input
    def handle_line(self, line):
        line = line.strip()
        if not line:
            return
        try:
            message = json.loads(line)
        except ValueError as e:
            log(f"{self.name}: parse error: {e}")
            return self._reply(None, error=self._error(PARSE_ERROR, f"Parse error: {e}"))
        if not isinstance(message, dict):
            return self._reply(None, error=self._error(
                INVALID_REQUEST, "Invalid Request: expected a single JSON-RPC object (batches are not supported)"))
        method, request_id = message.get("method"), message.get("id")
        is_request = "id" in message
        if method is None and is_request and ("result" in message or "error" in message):
            return  # a response to something we never asked; ignore
        if (message.get("jsonrpc") != "2.0" or not isinstance(method, str)
                or (is_request and (isinstance(request_id, bool) or not isinstance(request_id, (str, int, float))))):
            rid = request_id if isinstance(request_id, (str, int, float)) and not isinstance(request_id, bool) else None
            return self._reply(rid, error=self._error(
                INVALID_REQUEST, "Invalid Request: need jsonrpc \"2.0\", a string method and a string/number id"))
        params = message.get("params", {})
        if params is None:
            params = {}
        if not is_request:
            handler = self.notification_handlers.get(method)
            if handler and isinstance(params, dict):
                try:
                    handler(params)
                except Exception as e:
                    log(f"{self.name}: notification {method} failed: {e!r}")
            return
        handler = self.methods.get(method)
        if handler is None:
            return self._reply(request_id, error=self._error(METHOD_NOT_FOUND, f"Method not found: {method}"))
        if not isinstance(params, dict):
            return self._reply(request_id, error=self._error(INVALID_PARAMS, f"Invalid params: {method} params must be an object"))
        try:
            result = handler(params, request_id)
        except RpcError as e:
            return self._reply(request_id, error=self._error(e.code, e.message, e.data))
        except Exception as e:
            log(f"{self.name}: {method} failed: {e!r}")
            return self._reply(request_id, error=self._error(INTERNAL_ERROR, f"Internal error in {method}: {e}"))
        if result is not NO_REPLY:
            self._reply(request_id, result)

    def serve(self, exit_on_eof=True, handle_signals=True):
        """Read stdin until EOF. Stray print()s go to stderr so stdout stays protocol-only."""
        self._out = sys.stdout.buffer
        sys.stdout = sys.stderr
        if handle_signals:
            def stop(signum, _frame):
                log(f"{self.name}: {signal.Signals(signum).name}, exiting")
                raise SystemExit(0)
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        stdin = sys.stdin.buffer
        while True:
            raw = stdin.readline()
            if not raw:
                break
            self.handle_line(raw.decode("utf-8", errors="replace"))
        if exit_on_eof:
            self._queue.put(None)  # stop the worker once queued calls are done
            deadline = time.monotonic() + 10  # let calls already running answer first
            for thread in list(self._inflight):
                thread.join(max(0, deadline - time.monotonic()))
            log(f"{self.name}: stdin closed, exiting")
            raise SystemExit(0)
        threading.Event().wait()  # idle forever


# =========================================================================================
# The fs tools
# =========================================================================================

MAX_FILE_BYTES = 5_000_000
UMASK = os.umask(0o022)
os.umask(UMASK)
STOPWORDS = set("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves said says say one like
get got go went back also us let oh yes well even still
""".split())


class FsTools:
    def __init__(self, root):
        self.root = os.path.realpath(root)

    # ----- paths
    def resolve(self, rel):
        """Absolute path of `rel` inside the root, or ToolError if it would leave the root."""
        if not isinstance(rel, str) or not rel.strip():
            raise ToolError("path must be a non-empty relative path")
        rel = rel.strip().replace("\\", "/")
        if rel.startswith("/") or os.path.isabs(rel) or re.match(r"^[A-Za-z]:", rel):
            raise ToolError(f"absolute paths are not allowed: {rel!r}; use a path relative to the root folder")
        if ".." in rel.split("/"):
            raise ToolError(f"path traversal ('..') is not allowed: {rel!r}")
        full = os.path.realpath(os.path.join(self.root, rel))
        if full != self.root and not full.startswith(self.root + os.sep):
            raise ToolError(f"path {rel!r} resolves outside the root folder (symlink?); refused")
        return full

    def relpath(self, full):
        return os.path.relpath(full, self.root).replace(os.sep, "/")

    def walk_files(self):
        """All regular files under root (hidden entries skipped, symlinks escaping root skipped)."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fn in sorted(filenames):
                if fn.startswith("."):
                    continue
                full = os.path.join(dirpath, fn)
                real = os.path.realpath(full)
                if real.startswith(self.root + os.sep) and os.path.isfile(real):
                    yield full

    def is_text(self, full):
        try:
            with open(full, "rb") as f:
                head = f.read(4096)
        except OSError:
            return False
        if b"\0" in head:
            return False
        try:
            head.decode("utf-8")
            return True
        except UnicodeDecodeError as e:
            return e.start > len(head) - 4  # a multi-byte char cut at the 4 KiB boundary

    def read(self, rel):
        full = self.resolve(rel)
        if os.path.isdir(full):
            raise ToolError(f"{rel!r} is a folder, not a file; use list_files to see its contents")
        if not os.path.exists(full):
            raise ToolError(f"file not found: {rel!r} (use list_files to see available files)")
        if os.path.getsize(full) > MAX_FILE_BYTES:
            raise ToolError(f"{rel!r} is larger than {MAX_FILE_BYTES} bytes; refused")
        with open(full, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    # ----- tools
    def list_files(self, args, _call):
        pattern = args.get("pattern") or "*"
        pats = [pattern] + ([pattern[3:]] if pattern.startswith("**/") else [])
        rows = []
        for full in self.walk_files():
            rel = self.relpath(full)
            if any(fnmatch.fnmatchcase(rel, p) for p in pats):
                rows.append(f"{rel}\t{os.path.getsize(full)} bytes")
        if not rows:
            return f"no files match {pattern!r} in the root folder"
        return f"{len(rows)} file(s) matching {pattern!r}:\n" + "\n".join(rows)

    def read_text(self, args, _call):
        text = self.read(args["path"])
        limit = args.get("max_chars")
        if limit is not None and len(text) > limit:
            return text[:limit] + f"\n[... truncated: showed {limit} of {len(text)} characters]"
        return text

    def search_text(self, args, _call):
        query, max_results = args["query"], args.get("max_results", 20)
        case = args.get("case_sensitive", False)
        needle = query if case else query.lower()
        hits, truncated = [], False
        for full in self.walk_files():
            if os.path.getsize(full) > MAX_FILE_BYTES or not self.is_text(full):
                continue
            with open(full, "rb") as f:
                lines = f.read().decode("utf-8", errors="replace").splitlines()
            for n, line in enumerate(lines, 1):
                if needle in (line if case else line.lower()):
                    if len(hits) >= max_results:
                        truncated = True
                        break
                    shown = line.strip()
                    hits.append(f"{self.relpath(full)}:{n}: {shown[:200] + ('…' if len(shown) > 200 else '')}")
            if truncated:
                break
        if not hits:
            return f"no matches for {query!r}"
        head = f"{len(hits)} match(es) for {query!r}" + (f" (stopped at max_results={max_results})" if truncated else "")
        return head + ":\n" + "\n".join(hits)

    def analyze(self, args, _call):
        has_text, has_path = "text" in args, "path" in args
        if has_text == has_path:
            raise ToolError("pass exactly one of 'text' (the text itself) or 'path' (a file in the root folder)")
        text = args["text"] if has_text else self.read(args["path"])
        return json.dumps(analyze_narrative(text), ensure_ascii=False, indent=2)

    def write_text(self, args, _call):
        rel, content = args["path"], args["content"]
        full = self.resolve(rel)
        if os.path.isdir(full):
            raise ToolError(f"{rel!r} is a folder; give a file path")
        existed = os.path.exists(full)
        if existed and not args.get("overwrite", False):
            raise ToolError(f"{rel!r} already exists; pass overwrite: true to replace it")
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(full), prefix=".fs-write-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, os.stat(full).st_mode & 0o777 if existed else 0o666 & ~UMASK)
            if args.get("overwrite", False):
                os.replace(tmp, full)
            else:
                os.link(tmp, full)  # atomic: fails if the file appeared meanwhile
        except FileExistsError:
            raise ToolError(f"{rel!r} already exists; pass overwrite: true to replace it") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return f"{'replaced' if existed else 'created'} {self.relpath(full)} ({len(content)} characters, {len(data)} bytes)"

    # ----- resources
    def list_resources(self):
        out = []
        for full in self.walk_files():
            if len(out) >= 1000:
                break
            if self.is_text(full):
                rel = self.relpath(full)
                out.append({"uri": "file://" + urllib.parse.quote(rel), "name": rel,
                            "mimeType": "text/plain", "size": os.path.getsize(full)})
        return out

    def read_resource(self, uri):
        if not uri.startswith("file://"):
            raise KeyError(uri)
        rel = urllib.parse.unquote(uri[len("file://"):])
        try:
            text = self.read(rel)
        except ToolError as e:
            raise KeyError(uri) from e
        return [{"uri": uri, "mimeType": "text/plain", "text": text}]


WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
NUMBER = r"(?:\d+|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[a-z]+teen|twenty)"
HEADING_RE = re.compile(rf"^\s*(?:#{{1,6}}\s+\S.*|(?:chapter|part|book)\s+{NUMBER}\b.*|(?:prologue|epilogue|interlude)\b.*)$", re.I)


def analyze_narrative(text):
    words = WORD_RE.findall(text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    sentences = [s for s in re.split(r"(?<=[.!?])[\"'”’)\]]*\s+", text) if WORD_RE.search(s)]
    dialogue_words = 0
    for para in paragraphs:  # a quote left open at paragraph end runs to the paragraph end
        for m in re.finditer(r"[\"“]([^\"”]*)(?:[\"”]|$)", para):
            dialogue_words += len(WORD_RE.findall(m.group(1)))
    headings = [{"line": n, "text": line.strip()} for n, line in enumerate(text.splitlines(), 1)
                if len(line.strip()) <= 100 and HEADING_RE.match(line)]
    counts = Counter()
    body = "\n".join(line for line in text.splitlines() if not HEADING_RE.match(line))
    for w in WORD_RE.findall(body):
        w = w.lower().replace("’", "'")
        w = w[:-2] if w.endswith("'s") else w  # possessive -> base word
        if len(w) > 2 and "'" not in w and not w.isdigit() and w not in STOPWORDS:  # skip contractions
            counts[w] += 1
    content = counts.most_common()
    n_words = len(words)
    return {
        "word_count": n_words,
        "sentence_count": len(sentences),
        "paragraph_count": len(paragraphs),
        "avg_sentence_length": round(n_words / len(sentences), 1) if sentences else 0,
        "dialogue_ratio": round(dialogue_words / n_words, 3) if n_words else 0,
        "chapter_headings": headings,
        "top_words": [{"word": w, "count": c} for w, c in content[:10]],
        "reading_time_minutes": round(n_words / 230, 1),
    }


def build_server(root):
    fs = FsTools(root)
    server = StdioMcpServer("fs", "1.0.0", instructions=(
        f"Text files in one root folder. Paths are relative to that folder; '..' and absolute paths are refused."))
    obj = lambda props, required=(): {"type": "object", "properties": props,
                                      "required": list(required), "additionalProperties": False}
    path_prop = {"type": "string", "minLength": 1,
                 "description": "File path relative to the root folder, e.g. 'chapter1.txt' or 'notes/ideas.md'."}
    server.add_tool("list_files", "List files in the root folder (recursively) with their sizes in bytes. "
                    "Use this first to discover what can be read or searched.",
                    obj({"pattern": {"type": "string", "default": "*", "description":
                         "Glob matched against relative paths; '*' also crosses folders. "
                         "Examples: '*' (everything), '*.md', 'drafts/*'."}}), fs.list_files)
    server.add_tool("read_text", "Read a UTF-8 text file from the root folder and return its contents.",
                    obj({"path": path_prop, "max_chars": {"type": "integer", "minimum": 1, "description":
                         "Return at most this many characters (the rest is cut with a note). Default: whole file."}},
                        ["path"]), fs.read_text)
    server.add_tool("search_text", "Search all text files in the root folder for a literal substring. "
                    "Returns one line per match as 'path:line: text'.",
                    obj({"query": {"type": "string", "minLength": 1, "description": "Literal text to find (not a regex)."},
                         "max_results": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20,
                                         "description": "Stop after this many matches. Default 20."},
                         "case_sensitive": {"type": "boolean", "default": False,
                                            "description": "Match case exactly. Default false."}},
                        ["query"]), fs.search_text)
    server.add_tool("analyze_narrative_structure",
                    "Analyze prose: word/sentence/paragraph counts, average sentence length, dialogue_ratio "
                    "(share of words inside double quotes), chapter headings ('Chapter 3', '# Title'), "
                    "top 10 content words and reading time. Pass exactly one of 'text' or 'path'. Returns JSON.",
                    obj({"text": {"type": "string", "description": "The text to analyze."},
                         "path": {**path_prop, "description": "A file in the root folder to analyze instead of 'text'."}}),
                    fs.analyze)
    server.add_tool("write_text", "Write a UTF-8 text file inside the root folder, creating subfolders as needed. "
                    "Refuses to replace an existing file unless overwrite is true.",
                    obj({"path": path_prop, "content": {"type": "string", "description": "Full file contents."},
                         "overwrite": {"type": "boolean", "default": False,
                                       "description": "Replace the file if it exists. Default false."}},
                        ["path", "content"]), fs.write_text)
    server.resource_lister, server.resource_reader = fs.list_resources, fs.read_resource
    return server


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="stdio MCP server over a folder of text files")
    parser.add_argument("--root", default=os.environ.get("FS_ROOT") or os.path.join(here, "texts"),
                        help="folder to serve (default: $FS_ROOT, else examples/texts)")
    root = parser.parse_args().root
    if not os.path.isdir(root):
        log(f"fs: root folder does not exist or is not a folder: {root}")
        sys.exit(2)
    server = build_server(root)
    log(f"fs: serving {os.path.realpath(root)} over stdio")
    server.serve()


if __name__ == "__main__":
    main()
