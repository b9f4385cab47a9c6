"""`citebot ask` against a running `citebot serve` (CITEBOT_SERVER_URL): no model, no store in this process.

Only the standard library and pydantic are imported here, so a question costs the server's answer time plus
the interpreter's start-up, not the model's load.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any, NoReturn


class RemoteError(RuntimeError):
    """The server could not be reached or refused the question; the message says what to do."""


# A shed request (429/503 with Retry-After: the server at capacity) is tried this many times in all.
_SHED_TRIES = 5


def ask_remote(base_url: str, body: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
    """POST the question to /api/ask and return the answer JSON; waits out a shed request's Retry-After."""
    url = base_url.rstrip("/") + "/api/ask"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    for attempt in range(1, _SHED_TRIES + 1):
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                data = json.loads(resp.read())
            break
        except urllib.error.HTTPError as exc:
            if exc.code in (429, 503) and attempt < _SHED_TRIES:
                time.sleep(min(30.0, float(exc.headers.get("Retry-After") or 1)))
                continue
            _fail(exc, url)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RemoteError(f"no citebot server at {base_url} ({reason}); start one with `citebot serve` "
                              "or unset CITEBOT_SERVER_URL to answer in this process") from exc
    if not isinstance(data, dict):
        raise RemoteError(f"unexpected reply from {url}: not a JSON object")
    return data


def _fail(exc: urllib.error.HTTPError, url: str) -> NoReturn:
    try:
        message = json.loads(exc.read()).get("error", exc.reason)
    except (ValueError, AttributeError):
        message = exc.reason
    raise RemoteError(f"{message} (HTTP {exc.code} from {url})") from exc
