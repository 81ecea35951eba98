"""Run roc-validator (``rocrate-validator``) on a crate with no network.

roc-validator resolves JSON-LD contexts through its own HTTP cache (requests-cache, SQLite) and, with
``--offline``, answers only from that cache: a context it has not cached makes its checks skip with a
warning instead of running. So the RO-Crate 1.1 context the crate names is put into a fresh cache first,
from the copy shipped in ``tests/fixtures/jsonld/`` (see the README there), and the validator runs in a
subprocess whose proxies point at a closed loopback port and whose sockets refuse any non-local address:
a validation that passes has resolved everything from the shipped context.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import requests
import urllib3
from requests_cache import CachedSession

CONTEXTS = {"https://w3id.org/ro/crate/1.1/context":
            Path(__file__).parent / "fixtures" / "jsonld" / "ro-crate-1.1-context.jsonld"}
PROFILES = ("ro-crate-1.1", "process-run-crate-0.5")
# Loaded by the validator's interpreter before anything else (sitecustomize): any connection to an
# address outside the loopback range raises, so a cache miss that would go to the network fails loudly.
_NO_NETWORK = textwrap.dedent('''
    import socket

    _connect = socket.socket.connect

    def _local_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith("127.") or host in ("::1", "localhost")
                                      or self.family == socket.AF_UNIX):
            return _connect(self, address)
        raise OSError(f"network blocked in tests: {address!r}")

    socket.socket.connect = _local_only
    socket.create_connection = lambda address, *a, **k: (_ for _ in ()).throw(
        OSError(f"network blocked in tests: {address!r}"))
    socket.getaddrinfo = lambda host, *a, **k: (_ for _ in ()).throw(OSError(f"no DNS in tests: {host!r}"))
''')


class _ShippedFiles(requests.adapters.BaseAdapter):
    """A transport that answers the URLs of CONTEXTS from the shipped files and refuses any other."""

    def send(self, request, **kwargs):
        path = CONTEXTS[request.url]
        raw = urllib3.HTTPResponse(body=io.BytesIO(path.read_bytes()), status=200, preload_content=False,
                                   headers={"Content-Type": "application/ld+json"}, request_url=request.url)
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self):
        pass


def seed_cache(cache_name: Path) -> Path:
    """A requests-cache SQLite cache at ``cache_name`` (+ .sqlite) holding the shipped contexts."""
    session = CachedSession(cache_name=str(cache_name), backend="sqlite", expire_after=-1)
    session.mount("https://", _ShippedFiles())
    for url in CONTEXTS:
        response = session.get(url)  # answered by _ShippedFiles, stored by requests-cache
        assert response.status_code == 200 and not response.from_cache, url
    session.close()
    return cache_name


def offline_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a validator subprocess: proxies to a closed port, sockets local only."""
    hook = tmp_path / "no_network"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(_NO_NETWORK, encoding="utf-8")
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[name] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH", "")]))
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")  # never the user's cache
    env["COLUMNS"] = "120"
    return env


def validate_offline(crate_dir: Path, profile: str, tmp_path: Path) -> tuple[int, str, dict]:
    """``rocrate-validator validate`` on ``crate_dir`` against ``profile`` at REQUIRED level, offline;
    returns (exit code, what it printed, its JSON report)."""
    cache = seed_cache(tmp_path / f"http-cache-{profile}")
    report = tmp_path / f"report-{profile}.json"
    command = [str(Path(sys.executable).parent / "rocrate-validator"), "--no-interactive", "--disable-color",
               "validate", "--profile-identifier", profile, "--requirement-severity", "REQUIRED",
               "--offline", "--cache-path", str(cache), "--no-paging", "--verbose"]
    text = subprocess.run(command + [str(crate_dir)], capture_output=True, text=True, env=offline_env(tmp_path),
                          timeout=600)
    subprocess.run(command + ["--output-format", "json", "--output-file", str(report), str(crate_dir)],
                   capture_output=True, text=True, env=offline_env(tmp_path), timeout=600)
    result = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return text.returncode, text.stdout + text.stderr, result
