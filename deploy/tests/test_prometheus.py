"""A real Prometheus scrapes `hostmem serve` for 35 s while the planted job runs:
its series and finding come back through PromQL, promtool accepts /metrics and the
rules, and every dashboard panel's query returns data or needs a capability absent here."""
import json
import re
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from serve_support import ROOT, Served, free_port, get, require, series, start_planted, stop_planted, wait_until

DEPLOY = ROOT / "deploy"
SCRAPE_SECONDS = 35


def promql(base, query):
    status, _, body = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": query}), timeout=10)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.fixture(scope="module")
def scraped(tmp_path_factory):
    require("prometheus", "prometheus")
    folder = tmp_path_factory.mktemp("prometheus")
    # 1 M items (~160 MiB a process): each window's memory walks fit the exporter's 0.5%
    # budget even on a slow host. With the default 4 M (~650 MiB), a busy 2-vCPU guest
    # could walk one process a window; the window doubled, and the copy-on-write finding
    # came after this test's 35 s.
    planted = start_planted(PLANTED_ITEMS=1000000)
    served = Served("--interval", "5", "--match", planted.token)
    port = free_port()
    shutil.copy(DEPLOY / "prometheus/hostmem-rules.yml", folder / "hostmem-rules.yml")
    (folder / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 5s, evaluation_interval: 5s}}
rule_files: [hostmem-rules.yml]
scrape_configs:
  - job_name: hostmem
    static_configs: [{{targets: ["127.0.0.1:{served.port}"]}}]
    relabel_configs:
      - {{target_label: node, replacement: testnode}}
""")
    prometheus = subprocess.Popen(["prometheus", f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _ready(base), 30), "Prometheus did not start"
        time.sleep(SCRAPE_SECONDS)
        yield base, served
    finally:
        prometheus.terminate()
        prometheus.wait(20)
        stop_planted(planted)
        served.stop()


def _ready(base):
    try:
        return get(base + "/-/ready", timeout=1)[0] == 200
    except OSError:
        return False


def test_prometheus_scraped_the_job_and_its_finding(scraped):
    base, _ = scraped
    assert [r["value"][1] for r in promql(base, 'up{job="hostmem"}')] == ["1"]
    jobs = promql(base, 'hostmem_job_info{node="testnode"}')
    workloads = {r["metric"]["workload"] for r in jobs}
    assert any(w.startswith("process/python") for w in workloads), workloads
    workload = sorted(workloads)[0]
    # Scraped over the whole run, not once.
    samples = promql(base, f'count_over_time(hostmem_job_busy_threads{{workload="{workload}"}}[1m])')
    assert samples and float(samples[0]["value"][1]) >= 4
    findings = {r["metric"]["rule"] for r in promql(base, f'hostmem_finding{{workload="{workload}"}}')}
    assert "copy-on-write" in findings, findings
    workers = promql(base, f'hostmem_job_dataloader_workers{{workload="{workload}"}}')
    assert float(workers[0]["value"][1]) >= 3


def test_promtool_accepts_metrics_and_rules(scraped):
    _, served = scraped
    check = subprocess.run(["promtool", "check", "metrics"], input=served.metrics(), capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", check.stdout + check.stderr
    rules = subprocess.run(["promtool", "check", "rules", str(DEPLOY / "prometheus/hostmem-rules.yml")], capture_output=True, text=True)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    tests = subprocess.run(["promtool", "test", "rules", "hostmem-rules.test.yml"], cwd=DEPLOY / "prometheus", capture_output=True, text=True)
    assert tests.returncode == 0 and "SUCCESS" in tests.stdout, tests.stdout + tests.stderr


def test_every_dashboard_panel_has_data_or_names_what_is_missing(scraped):
    base, served = scraped
    dashboard = json.loads((DEPLOY / "grafana/hostmem-dashboard.json").read_text())
    body = served.metrics()
    unavailable = {m.group(1) for m in re.finditer(r'capability="([^"]+)"', "\n".join(l for l in series(body, "hostmem_capability_info") if 'available="false"' in l))}
    # What the planted job on this machine lacks, checked rather than assumed.
    absent = set(unavailable)
    if not promql(base, "DCGM_FI_DEV_GPU_UTIL"):
        absent.add("dcgm")
    if not series(body, "hostmem_job_gpu_info"):
        absent.add("gpu")
    if not series(body, "hostmem_job_cpu_quota_cpus"):
        absent.add("cpu_quota")
    if not series(body, "hostmem_job_memory_limit_bytes"):
        absent.add("memory_limit")
    empty = []
    for panel in dashboard["panels"]:
        needs = set(re.findall(r"Needs: ([a-z_]+)", panel.get("description", "")))
        for target in panel["targets"]:
            query = target["expr"].replace("$node", ".*").replace("$workload", ".*")
            if promql(base, query):
                continue
            if needs and needs <= absent:
                continue
            empty.append(f"{panel['title']}: {query}")
    assert not empty, "panels without data and without a missing capability:\n" + "\n".join(empty)
    # The list of panels that need something absent here, for the record.
    print("panels needing what this machine lacks:", sorted(p["title"] for p in dashboard["panels"] if set(re.findall(r"Needs: ([a-z_]+)", p.get("description", ""))) & absent))
