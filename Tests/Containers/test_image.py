"""hostmem's image (deploy/image/build.sh: the static binary on an empty base) run as the
DaemonSet in deploy/kubernetes/daemonset.yaml says, translated field by field into podman's
options: the host's PIDs, /proc and /sys read-only under /host, root with every capability
dropped but the three it adds, a read-only root filesystem, no privilege escalation. It
finds a training job in another container, labels it by its container, and a real
Prometheus scrapes the finding from it.

The image is built once for the module (a release build of the binary: minutes the first
time, seconds after) and removed afterwards. Skipped, with the reason, where podman cannot
run or the image cannot be built."""
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from test_containers import FOLDER, LIMITS, PYTHON, ROOT, busy_job, podman, run_container  # noqa: F401 (podman: the fixture)

MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "daemonset.yaml")


@pytest.fixture(scope="module")
def image(podman):  # noqa: F811 (the imported fixture)
    if shutil.which("swift") is None:
        pytest.skip("the image's binary is built with swift")
    tag = "localhost/hostmem:test-" + uuid.uuid4().hex[:8]
    built = subprocess.run(["bash", os.path.join(ROOT, "deploy", "image", "build.sh"), "--tag", tag],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
    assert built.stdout.strip().splitlines()[-1] == tag
    yield tag
    subprocess.run(["podman", "rmi", "-f", tag], capture_output=True)


def daemonset_container():
    yaml = pytest.importorskip("yaml")
    with open(MANIFEST) as manifest:
        daemonset = yaml.safe_load(manifest)
    return daemonset["spec"]["template"]["spec"], daemonset["spec"]["template"]["spec"]["containers"][0]


def podman_options(pod, container, host_folders):
    """podman run options for the DaemonSet's pod and container, field by field. The pod's
    network is the host's here (no CNI); hostPath folders the manifest would create, or that
    this machine lacks (the kubelet's log folders), are made in `host_folders` instead."""
    options = ["--network", "host"]
    if pod.get("hostPID"):
        options.append("--pid=host")
    security = container.get("securityContext", {})
    if "runAsUser" in security:
        options += ["--user", str(security["runAsUser"])]
    if security.get("readOnlyRootFilesystem"):
        options.append("--read-only")
    if security.get("allowPrivilegeEscalation") is False:
        options += ["--security-opt", "no-new-privileges"]
    for capability in security.get("capabilities", {}).get("drop", []):
        options += ["--cap-drop", capability]
    for capability in security.get("capabilities", {}).get("add", []):
        options += ["--cap-add", capability]
    for variable in container.get("env", []):
        options += ["-e", f"{variable['name']}={variable['value']}"]
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        path = volumes[mount["name"]]["hostPath"]
        source = path["path"]
        if path.get("type") == "DirectoryOrCreate" or not os.path.exists(source):  # not made on this machine
            source = os.path.join(host_folders, mount["name"])
            os.makedirs(source, exist_ok=True)
        options += ["-v", f"{source}:{mount['mountPath']}" + (":ro" if mount.get("readOnly") else "")]
    if "memory" in container.get("resources", {}).get("limits", {}):
        options += ["--memory", container["resources"]["limits"]["memory"].replace("Mi", "m")]
    return options


def serve_arguments(container, port):
    """The container's args, listening on a free port of this machine (the pod would have
    its own address) and with a 2 s window instead of 15 s, so the test takes seconds."""
    arguments = list(container["args"])
    arguments[arguments.index("--listen") + 1] = f"127.0.0.1:{port}"
    arguments[arguments.index("--interval") + 1] = "2"
    return arguments + ["--calibrate", "never"]


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_image_runs_as_nobody_and_reads_the_machine(image):
    config = json.loads(subprocess.run(["podman", "image", "inspect", image], capture_output=True, text=True, check=True).stdout)[0]["Config"]
    assert config["User"] == "65534:65534" and config["Entrypoint"] == ["/usr/local/bin/hostmem"]
    shown = subprocess.run(["podman", "run", "--rm", "--runtime", "runc", *LIMITS, "--cpus", "0.5", image, "topo"],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("Machine:") and "CPU quota 0.5 CPU" in shown.stdout, shown.stdout[:500]
    version = subprocess.run(["podman", "run", "--rm", "--runtime", "runc", *LIMITS, image, "--version"],
                             capture_output=True, text=True, timeout=120).stdout.strip()
    assert daemonset_container()[1]["image"].endswith(":" + version), "the DaemonSet names this version's image"


def test_the_daemonset_as_written_finds_a_job_in_another_container_and_prometheus_scrapes_it(image, tmp_path):
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    pod, container = daemonset_container()
    port, prometheus_port = free_port(), free_port()
    script = os.path.join(FOLDER, "train_image.py")  # the manifest's --match is python.*train
    shutil.copyfile(busy_job(1)[1], script)
    job = run_container(["--cpus", "0.5"], [PYTHON, script, "90"], detach=True).stdout.strip()
    server = subprocess.run(["podman", "run", "-d", "--runtime", "runc", *LIMITS, *podman_options(pod, container, str(tmp_path)),
                             image, *serve_arguments(container, port)], capture_output=True, text=True, timeout=120)
    assert server.returncode == 0, server.stderr
    exporter = server.stdout.strip()
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s}}
scrape_configs:
  - job_name: hostmem
    static_configs: [{{targets: ["127.0.0.1:{port}"]}}]
""")
    prometheus = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{prometheus_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        query = urllib.parse.urlencode({"query": 'hostmem_finding{rule="cpu-quota-throttled"}'})
        found, deadline = [], time.time() + 90
        while time.time() < deadline and not found:
            time.sleep(2)
            try:
                answer = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{prometheus_port}/api/v1/query?{query}", timeout=5).read())
                found = answer["data"]["result"]
            except (OSError, ValueError, KeyError):
                found = []
        logs = subprocess.run(["podman", "logs", exporter], capture_output=True, text=True).stderr[-2000:]
        assert found, "Prometheus never got the finding; the exporter said:\n" + logs
        labels = found[0]["metric"]
        assert labels["workload"] == f"container/{job[:12]}" and labels["job"] == "hostmem", labels
        assert labels["severity"] in ("warning", "critical") and found[0]["value"][1] == "1", found[0]
        info = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert f'container_id="{job}"' in info
    finally:
        prometheus.terminate()
        prometheus.wait(20)
        subprocess.run(["podman", "rm", "-f", "-t", "0", job, exporter], capture_output=True)
