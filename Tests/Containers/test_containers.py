"""hostmem in real containers: podman with runc (crun refuses this machine's hybrid cgroup
layout), the container's root a folder of mount points with this machine's /usr, the Swift
toolchain, the checkout and Python bound in read-only, so the checkout's own build runs in
it. CPU quota, memory limit and cgroups are the container's, as in a pod.

Skipped, with the reason, where podman cannot run (not installed, not root). About a
minute."""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HOSTMEM = os.path.join(ROOT, ".build", "debug", "hostmem")
PYTHON = os.path.realpath(sys.executable)
FOLDER = os.path.join(ROOT, ".build-container")
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]  # the machine may not raise limits


def rootfs():
    """An empty root with the merged-/usr links and mount points; what runs comes from the binds."""
    root = os.path.join(FOLDER, "rootfs")
    if not os.path.isdir(os.path.join(root, "proc")):
        for folder in ("proc", "sys", "dev", "tmp", "etc", "root", "run", "var/tmp", "usr", "opt"):
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.exists("/" + link) and not os.path.lexists(os.path.join(root, link)):
                os.symlink("usr/" + link, os.path.join(root, link))
        for name in ("passwd", "group", "hosts", "nsswitch.conf"):
            if os.path.exists("/etc/" + name):
                shutil.copyfile("/etc/" + name, os.path.join(root, "etc", name))
    return root


def binds():
    """This machine's /usr, the Swift toolchain (the debug build links its libraries), the checkout and the Python running the tests."""
    folders = ["/usr", ROOT]
    swift = shutil.which("swift")
    if swift:
        folders.append(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(swift)))))  # …/usr/bin/swift → the toolchain
    prefix = os.path.dirname(os.path.dirname(PYTHON))
    if not prefix.startswith("/usr"):
        folders.append(prefix)
    mounts = []
    for folder in folders:
        mounts += ["-v", f"{folder}:{folder}:ro"]
    return mounts


@pytest.fixture(scope="module")
def podman():
    if os.geteuid() != 0:
        pytest.skip("podman containers here need root")
    if shutil.which("podman") is None or shutil.which("runc") is None:
        pytest.skip("podman and runc are not installed (apt-get install podman runc)")
    if not os.path.exists(HOSTMEM):
        pytest.skip("build hostmem first (swift build)")
    probe = run_container(["--cpus", "0.5"], ["/bin/true"], check=False)
    if probe.returncode != 0:
        pytest.skip("podman cannot start a container here: " + probe.stderr.strip()[-300:])
    return True


def run_container(options, command, check=True, detach=False):
    arguments = ["podman", "run", "--runtime", "runc", *LIMITS, *options, *binds(), "--rootfs", rootfs(), *command]
    if detach:
        arguments.insert(2, "-d")
    else:
        arguments.insert(2, "--rm")
    result = subprocess.run(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def busy_job(seconds):
    path = os.path.join(FOLDER, "busy.py")
    os.makedirs(FOLDER, exist_ok=True)
    with open(path, "w") as script:
        script.write("import sys, time\nend = time.time() + float(sys.argv[1])\nwhile time.time() < end:\n    pass\n")
    return [PYTHON, path, str(seconds)]


def test_topo_in_a_container_shows_its_quota_and_memory_limit(podman):
    out = run_container(["--cpus", "0.5", "--memory", "512m"], [HOSTMEM, "topo"]).stdout
    assert "CPU quota 0.5 CPU (50000 µs per 100000 µs period" in out, out
    assert "memory limit 512 MiB" in out, out


def test_the_doctor_inside_a_container_finds_the_quota_throttling(podman):
    command = [HOSTMEM, "doctor", "--no-calibration", "--no-hook", "--warmup", "1", "--seconds", "3", "--json", "--", *busy_job(6)]
    report = json.loads(run_container(["--cpus", "0.5"], command).stdout)
    throttled = [finding for finding in report["findings"] if finding["id"] == "cpu-quota-throttled"]
    assert throttled and throttled[0]["severity"] in ("warning", "critical"), [finding["id"] for finding in report["findings"]]


def test_the_hosts_doctor_finds_a_containers_job_throttled_and_names_the_container(podman):
    name = "hostmem-test-" + uuid.uuid4().hex[:8]
    started = run_container(["--name", name, "--cpus", "0.5"], busy_job(20), detach=True)
    container = started.stdout.strip()
    try:
        pid = ""
        for _ in range(50):
            pid = subprocess.run(["podman", "inspect", "-f", "{{.State.Pid}}", container], capture_output=True, text=True).stdout.strip()
            if pid not in ("", "0"):
                break
            time.sleep(0.1)
        result = subprocess.run([HOSTMEM, "doctor", "--pid", pid, "--seconds", "3", "--no-calibration", "--json"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        throttled = [finding for finding in report["findings"] if finding["id"] == "cpu-quota-throttled"]
        assert throttled, [finding["id"] for finding in report["findings"]]
        assert container in json.dumps(throttled[0]), "the evidence names the container's cgroup (libpod-ID)"
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", container], capture_output=True)


def test_a_job_near_its_memory_limit(podman):
    """A job holding 236 MiB in a 256 MiB container (92% with the interpreter; the rule fires at 90%): memory-limit-near."""
    script = os.path.join(FOLDER, "grow.py")
    with open(script, "w") as job:
        job.write("import time\nheld = bytearray(236 << 20)\nfor i in range(0, len(held), 4096):\n    held[i] = 1\ntime.sleep(8)\n")
    command = [HOSTMEM, "doctor", "--no-calibration", "--no-hook", "--warmup", "2", "--seconds", "3", "--json", "--", PYTHON, script]
    report = json.loads(run_container(["--memory", "256m", "--memory-swap", "256m"], command).stdout)
    assert "memory-limit-near" in [finding["id"] for finding in report["findings"]], [finding["id"] for finding in report["findings"]]


def test_a_worker_oom_killed_in_a_container(podman):
    """A child that outgrows the 128 MiB limit is killed by the kernel during the window:
    oom-killed, with the count, from memory.events (v1: memory.oom_control)."""
    script = os.path.join(FOLDER, "oom.py")
    with open(script, "w") as job:
        job.write("import subprocess, sys, time\n"
                  "time.sleep(2)\n"
                  "child = subprocess.run([sys.executable, '-c', 'x = bytearray(400 << 20)\\nfor i in range(0, len(x), 4096): x[i] = 1'])\n"
                  "print('child status', child.returncode, file=sys.stderr)\n"
                  "time.sleep(4)\n")
    command = [HOSTMEM, "doctor", "--no-calibration", "--no-hook", "--warmup", "1", "--seconds", "5", "--json", "--", PYTHON, script]
    report = json.loads(run_container(["--memory", "128m", "--memory-swap", "128m"], command).stdout)
    killed = [finding for finding in report["findings"] if finding["id"] == "oom-killed"]
    assert killed, [finding["id"] for finding in report["findings"]]
    assert killed[0]["evidence"][0]["value"] >= 1


def test_the_hosts_doctor_reads_the_containers_own_dev_shm(podman):
    """A job filling 60 of its container's 64 MiB /dev/shm (--shm-size): the host's doctor,
    by PID, judges that /dev/shm (through /proc/PID/root), not the host's own: dev-shm-full."""
    script = os.path.join(FOLDER, "shm.py")
    with open(script, "w") as job:
        job.write("import time\nwith open('/dev/shm/batch', 'wb') as shm:\n    shm.write(bytes(60 << 20))\ntime.sleep(30)\n")
    container = run_container(["--shm-size", "64m"], [PYTHON, script], detach=True).stdout.strip()
    try:
        pid = ""
        for _ in range(100):
            pid = subprocess.run(["podman", "inspect", "-f", "{{.State.Pid}}", container], capture_output=True, text=True).stdout.strip()
            if pid not in ("", "0") and os.path.exists(f"/proc/{pid}/root/dev/shm/batch") \
                    and os.path.getsize(f"/proc/{pid}/root/dev/shm/batch") == 60 << 20:
                break
            time.sleep(0.1)
        result = subprocess.run([HOSTMEM, "doctor", "--pid", pid, "--seconds", "2", "--no-calibration", "--json"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        full = [finding for finding in json.loads(result.stdout)["findings"] if finding["id"] == "dev-shm-full"]
        assert full, "the container's /dev/shm is 94% used"
        context = {measure["metric"]: measure["value"] for measure in full[0]["evidence"][0]["context"]}
        assert context["dev_shm_total_bytes"] == 64 << 20, context
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", container], capture_output=True)


def test_serve_in_a_container_as_the_daemonset_runs_it_finds_a_job_in_another(podman):
    """hostmem serve in its own container with the host's PIDs and root (--pid=host,
    -v /:/host:ro, --root /host, as deploy/daemonset.yaml runs it) finds a job running in
    another container, names it by its container ID, and serves its quota finding."""
    import socket
    import urllib.request
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    script = os.path.join(FOLDER, "train_busy.py")
    shutil.copyfile(busy_job(1)[1], script)
    job = run_container(["--cpus", "0.5"], [PYTHON, script, "60"], detach=True).stdout.strip()
    server = run_container(["--pid=host", "--network", "host", "-v", "/:/host:ro"],
                           [HOSTMEM, "serve", "--root", "/host", "--listen", f"127.0.0.1:{port}", "--interval", "2",
                            "--match", "train_busy", "--calibrate", "never"], detach=True).stdout.strip()
    try:
        text, deadline = "", time.time() + 60
        while time.time() < deadline:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            except OSError:
                text = ""
            if 'rule="cpu-quota-throttled"' in text:
                break
            time.sleep(1)
        info = [line for line in text.splitlines() if line.startswith("hostmem_job_info{")]
        assert any(f'container_id="{job}"' in line for line in info), info or text[-2000:]
        finding = [line for line in text.splitlines() if line.startswith("hostmem_finding{") and 'rule="cpu-quota-throttled"' in line]
        assert finding and f'workload="container/{job[:12]}"' in finding[0], finding or text[-2000:]
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", job, server], capture_output=True)
