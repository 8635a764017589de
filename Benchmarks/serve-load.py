#!/usr/bin/env python3
"""`hostmem serve` under load, idle, and over a soak, with a planted training job
(deploy/tests/planted_job.py) for it to watch. Loopback only.

  python3 Benchmarks/serve-load.py [--load-seconds 60] [--idle-seconds 120] [--soak-seconds 600]

Load: `hey` with 50 concurrent clients on /metrics for --load-seconds after a 10 s
warm-up: requests, errors, p50/p99 latency (hey's percentiles), the exporter's RSS
before and after. Idle: one scrape every 15 s (Prometheus' default interval) for
--idle-seconds; the exporter's CPU time over that span as a share of one core (with
the planted job being sampled, and with no job). Soak: the same 15 s scrapes plus a
5 s hey burst each minute for --soak-seconds; RSS each minute and CPU share.
Uses the release build (swift build -c release)."""
import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy/tests"))
from serve_support import free_port, start_planted, stop_planted, wait_until  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def scrape(url):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        return response.status, response.read()


def hey(url, seconds, clients=50):
    out = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(clients), url + "/metrics"], capture_output=True, text=True).stdout
    total = int(re.search(r"\[200\]\s+(\d+) responses", out).group(1)) if "[200]" in out else 0
    statuses = re.findall(r"\[(\d+)\]\s+(\d+) responses", out)
    errors = sum(int(n) for code, n in statuses if code != "200")
    error_section = out.split("Error distribution:")[1] if "Error distribution:" in out else ""
    errors += sum(int(n) for n in re.findall(r"\[(\d+)\]", error_section))
    p = {q: float(v) * 1000 for q, v in re.findall(r"(\d+)%+ in ([\d.]+) secs", out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return total, errors, p.get("50"), p.get("99"), rps


def idle_share(pid, url, seconds):
    """Exporter CPU over `seconds` with one scrape per 15 s, percent of one core."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    while time.monotonic() - start < seconds:
        scrape(url)
        time.sleep(min(15, max(0, seconds - (time.monotonic() - start))))
    return (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start) * 100


def start_serve(binary, port, *extra):
    process = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--interval", "15", *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: _ok(url), 20), "serve did not start"
    return process, url


def _ok(url):
    try:
        return scrape(url)[0] == 200
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load-seconds", type=int, default=60)
    parser.add_argument("--idle-seconds", type=int, default=120)
    parser.add_argument("--soak-seconds", type=int, default=0)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/hostmem"))
    args = parser.parse_args()
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    print(f"machine: {cpu}, {os.cpu_count()} CPUs; exporter: {args.binary}")

    planted = start_planted(PLANTED_WORKERS=2, PLANTED_ITEMS=1000000)
    serve, url = start_serve(args.binary, free_port(), "--match", planted.token)
    try:
        assert wait_until(lambda: b"hostmem_job_info" in scrape(url)[1], 60), "the planted job was not found"
        size = len(scrape(url)[1])
        print(f"/metrics: {size} bytes with one job watched")

        hey(url, 10)  # warm-up
        before = rss_mib(serve.pid)
        total, errors, p50, p99, rps = hey(url, args.load_seconds)
        after = rss_mib(serve.pid)
        print(f"load: 50 clients for {args.load_seconds} s: {total} responses ({rps:.0f}/s), {errors} errors, "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (hey's percentiles); RSS {before:.1f} → {after:.1f} MiB ({(after / before - 1) * 100:+.1f}%)")

        if args.idle_seconds:
            share = idle_share(serve.pid, url, args.idle_seconds)
            print(f"idle with the planted job: one scrape per 15 s for {args.idle_seconds} s: {share:.2f}% of one core (CPU time ÷ wall time)")

        if args.soak_seconds:
            start, start_cpu, first = time.monotonic(), cpu_seconds(serve.pid), rss_mib(serve.pid)
            samples = []
            next_burst = start + 60
            while time.monotonic() - start < args.soak_seconds:
                scrape(url)
                if time.monotonic() >= next_burst:
                    hey(url, 5)
                    samples.append(rss_mib(serve.pid))
                    next_burst += 60
                time.sleep(15)
            share = (cpu_seconds(serve.pid) - start_cpu) / (time.monotonic() - start) * 100
            last = rss_mib(serve.pid)
            print(f"soak: {args.soak_seconds} s, scrapes every 15 s and a 5 s burst of 50 clients each minute: "
                  f"RSS {first:.1f} → {last:.1f} MiB ({(last / first - 1) * 100:+.1f}%), per minute {', '.join(f'{s:.1f}' for s in samples)}; "
                  f"CPU {share:.2f}% of one core (bursts included)")
    finally:
        stop_planted(planted)
        serve.terminate()
        serve.wait()

    if args.idle_seconds:
        serve, url = start_serve(args.binary, free_port())
        try:
            time.sleep(5)
            share = idle_share(serve.pid, url, args.idle_seconds)
            print(f"idle with no job: one scrape per 15 s for {args.idle_seconds} s: {share:.2f}% of one core")
        finally:
            serve.terminate()
            serve.wait()


if __name__ == "__main__":
    main()
