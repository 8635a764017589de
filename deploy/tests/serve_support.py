"""Shared helpers for the exporter's tests: the hostmem binary, a free port, a served
exporter, the planted job."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def hostmem_binary():
    """HOSTMEM_BIN, else the debug or release build of this checkout."""
    for candidate in (os.environ.get("HOSTMEM_BIN"), ROOT / ".build/debug/hostmem", ROOT / ".build/release/hostmem"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.skip("no hostmem binary: run 'swift build' first (or set HOSTMEM_BIN)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5.0):
    """(status, headers, body) of a GET; HTTP errors are results, not exceptions."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def wait_until(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class Served:
    """`hostmem serve` on a free loopback port; stopped with SIGTERM."""

    def __init__(self, *arguments, preexec=None, user=None):
        self.port = free_port()
        command = [hostmem_binary(), "serve", "--listen", f"127.0.0.1:{self.port}", *arguments]
        if user:
            command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/")
        self.url = f"http://127.0.0.1:{self.port}"
        if not wait_until(self.healthy, 20):
            self.stop()
            raise AssertionError(f"hostmem serve did not start: {self.process.stderr.read()}")

    def healthy(self):
        try:
            return get(self.url + "/healthz", timeout=1)[0] == 200
        except OSError:
            return False

    def metrics(self):
        status, _, body = get(self.url + "/metrics", timeout=10)
        assert status == 200
        return body

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_planted(**environment):
    """The planted job (deploy/tests/planted_job.py), in its own process group. Its
    command line carries a token of its own (`process.token`): `--match` that, and an
    exporter sees only this job, whatever else runs on the machine."""
    env = dict(os.environ, **{k: str(v) for k, v in environment.items()})
    token = "hostmem-planted-" + uuid.uuid4().hex[:12]
    process = subprocess.Popen([sys.executable, str(HERE / "planted_job.py"), "--" + token], env=env, start_new_session=True)
    process.token = token
    return process


def stop_planted(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def series(body, name):
    """The lines of metric `name` (exactly that name, any labels)."""
    return [line for line in body.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]


def require(tool, package):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not found (apt-get install {package}): this test needs it")
