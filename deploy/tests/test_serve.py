"""`hostmem serve` under bad input and faults: each a test against the real binary."""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest

from serve_support import Served, free_port, get, hostmem_binary, series, start_planted, stop_planted, wait_until


def run_serve(*arguments, timeout=20):
    return subprocess.run([hostmem_binary(), "serve", *arguments], capture_output=True, text=True, timeout=timeout)


def test_port_in_use_is_one_clear_line():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_serve("--listen", f"127.0.0.1:{port}")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"hostmem: error: cannot serve on 127.0.0.1:{port}: the address is already in use (another exporter? pick another port with --listen)"


@pytest.mark.parametrize("listen, status, words", [
    ("nonsense", 2, "is not HOST:PORT"),
    ("127.0.0.1:99999", 2, "the port must be a number from 0 to 65535"),
    ("127.0.0.1:http", 2, "the port must be a number"),
    ("999.1.2.3:9847", 1, "unknown host"),
    ("10.254.254.254:9847", 1, "no interface has that address"),
])
def test_bad_address(listen, status, words):
    result = run_serve("--listen", listen)
    assert result.returncode == status, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr and "Fatal error" not in result.stderr


def test_bad_pattern_and_interval():
    result = run_serve("--match", "python(", "--listen", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "--match 'python(' is not a regular expression" in result.stderr
    result = run_serve("--interval", "0")
    assert result.returncode == 2 and "--interval must be between 1 and 3600" in result.stderr


def test_routes_and_unknown_path():
    served = Served("--interval", "2")
    try:
        status, headers, body = get(served.url + "/metrics")
        assert status == 200
        assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert series(body, "hostmem_build_info")
        assert get(served.url + "/healthz")[2] == "ok\n"
        status, headers, body = get(served.url + "/")
        assert status == 200 and 'href="/metrics"' in body
        assert get(served.url + "/no/such/path")[0] == 404
        assert get(served.url + "/metrics/extra")[0] == 404
    finally:
        served.stop()


def test_slow_client_is_cut_off_and_others_are_served():
    served = Served("--interval", "2", "--idle-timeout", "1", "--max-connections", "4")
    try:
        slow = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(4)]
        for connection in slow:
            connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
        started = time.monotonic()
        # The four slow clients hold every connection until the idle timeout closes them.
        for connection in slow:
            connection.settimeout(5)
            assert connection.recv(1024) == b""  # closed by the server
            connection.close()
        assert time.monotonic() - started < 4
        assert get(served.url + "/healthz")[0] == 200
    finally:
        served.stop()


def test_job_that_exits_loses_its_series_and_the_exporter_lives():
    planted = start_planted(PLANTED_WORKERS=1, PLANTED_ITEMS=100000)
    served = Served("--interval", "2", "--match", planted.token)
    try:
        info = wait_until(lambda: series(served.metrics(), "hostmem_job_info"), 30)
        assert info, "the planted job was not found"
        workload = re.search(r'workload="([^"]+)"', info[0]).group(1)
        # The index links the job's report; the report is hostmem report's page of its last window.
        assert urllib.parse.quote(workload, safe="") in get(served.url + "/")[2]
        status, headers, page = get(served.url + "/report?" + urllib.parse.urlencode({"workload": workload}))
        assert status == 200 and headers["Content-Type"].startswith("text/html") and "<svg" in page
        assert get(served.url + "/report")[0] == 400
        assert get(served.url + "/report?workload=process/none")[0] == 404
        stop_planted(planted)
        assert wait_until(lambda: not series(served.metrics(), "hostmem_job_info"), 20), "its series stayed after it exited"
        body = served.metrics()
        assert not series(body, "hostmem_job_window_seconds") and not series(body, "hostmem_finding")
        assert served.process.poll() is None
    finally:
        stop_planted(planted)
        served.stop()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to run the exporter as another user")
def test_process_it_may_not_read_is_a_capability_not_a_crash():
    planted = start_planted(PLANTED_WORKERS=1, PLANTED_ITEMS=100000)  # root's
    nobody = pwd.getpwnam("nobody").pw_uid
    served = Served("--interval", "2", "--match", planted.token, "--calibrate", "never", user=nobody)
    try:
        line = wait_until(lambda: [l for l in series(served.metrics(), "hostmem_capability_info") if 'capability="process_access"' in l and 'available="false"' in l], 30)
        assert line and "permission denied" in line[0]
        body = served.metrics()
        assert not series(body, "hostmem_job_info")
        assert [l for l in series(body, "hostmem_exporter_sampler_errors_total") if 'kind="attach"' in l and not l.endswith(" 0")]
        assert served.process.poll() is None
    finally:
        stop_planted(planted)
        served.stop()


def test_sigterm_stops_within_two_seconds():
    planted = start_planted(PLANTED_WORKERS=1, PLANTED_ITEMS=100000)
    served = Served("--interval", "5", "--match", planted.token)
    try:
        assert wait_until(lambda: series(served.metrics(), "hostmem_job_info"), 30)
        keep_alive = socket.create_connection(("127.0.0.1", served.port))  # an open client must not hold it up
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(10)
        elapsed = time.monotonic() - started
        keep_alive.close()
        assert served.process.returncode == 0
        assert elapsed < 2, f"stopped after {elapsed:.2f} s"
    finally:
        stop_planted(planted)
        served.stop()
