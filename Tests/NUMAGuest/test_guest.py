"""hostmem in a real multi-node NUMA kernel: a QEMU (TCG) guest booted by guest.sh with
this machine's root mounted read-only, 2 or 4 nodes. Placement, policies, page counts and
what the kernel reports are real; timings are emulated and not looked at.

Skipped, with the reason, where the guest cannot run (no root to install QEMU, no package
lists). About 3 minutes on 2 cores, most of it the emulated Python jobs."""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HOSTMEM = os.path.join(ROOT, ".build", "debug", "hostmem")
PYTHON = os.path.realpath(sys.executable)


def guest(nodes, *command, timeout=600):
    """(status, output) of COMMAND run in the checkout inside a guest with `nodes` nodes."""
    if not os.path.exists(HOSTMEM):
        pytest.skip("build hostmem first (swift build)")
    result = subprocess.run([os.path.join(HERE, "guest.sh"), "--nodes", str(nodes), "--", *command], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if result.returncode == 77:
        pytest.skip("the NUMA guest cannot run here: " + result.stderr.strip())
    assert result.returncode != 124, "the guest did not report the command's status:\n" + result.stderr[-3000:]
    return result.returncode, result.stdout


def placed_job(placement, churn=False):
    """A shell line that starts numa_job.py under numactl PLACEMENT in the background and
    waits until it has touched all its memory (its PID is then $!)."""
    return (f"numactl {placement} {PYTHON} Tests/NUMAGuest/numa_job.py 60 /tmp/ready{' churn' if churn else ''} & "
            "while [ ! -e /tmp/ready ]; do sleep 1; done; ")


def test_two_nodes_topo_and_qemus_vga_is_not_a_gpu():
    status, out = guest(2, HOSTMEM, "topo", "--json")
    assert status == 0, out
    topology = json.loads(out)
    nodes = sorted(topology["numaNodes"], key=lambda node: node["os"])
    assert [node["os"] for node in nodes] == [0, 1]
    assert [node["cpus"] for node in nodes] == [[0], [1]]
    assert [node["distances"] for node in nodes] == [[10, 21], [21, 10]]
    assert all(node["localMemoryBytes"] > 900 << 20 for node in nodes)
    assert topology["gpus"] == []
    assert [(display["vendor"], display["classCode"]) for display in topology["displays"]] == [("QEMU", 0x0300)]


def test_four_nodes_asymmetric_distances_and_devices_on_their_nodes():
    status, out = guest(4, HOSTMEM, "topo")
    assert status == 0, out
    assert out.startswith("Machine: 4 packages, 4 cores, 4 PUs, 4 NUMA nodes, 0 GPUs"), out[:200]
    lines = out.splitlines()
    matrix = lines[lines.index("NUMA distances (node*/distance, 10 = local):") + 2:][:4]
    assert [line.split()[1:] for line in matrix] == [["10", "16", "22", "28"], ["16", "10", "16", "22"],
                                                     ["22", "16", "10", "16"], ["28", "22", "16", "10"]]
    nvme = lines[lines.index("NVMe: device → NUMA node → local CPUs") + 2].split()
    nic = lines[lines.index("NICs: device → NUMA node → local CPUs") + 2].split()
    assert nvme[-4:-1] == ["NVMe", "1", "1"], nvme  # vendor "Red Hat" (QEMU's), class, node, local CPUs, driver
    assert nic[-5:-1] == ["Intel", "Ethernet", "3", "3"], nic
    assert "Displays (not GPUs)" in out


def test_loader_and_binding_place_pages_on_the_node():
    """The Loader's pool with numa_node=1, and memory touched after bind_to_node(1), are on node 1 (numa_maps)."""
    pytest.importorskip("numpy")
    status, out = guest(2, "env", f"HOSTMEM_LIB={ROOT}/.build/debug/libhostmem_c.so", PYTHON, "Tests/NUMAGuest/placement.py", "1")
    assert status == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert set(result["loader_pool"]) == {"1"} and result["loader_pool"]["1"] >= 256, result
    assert result["bound_cpus"] == [1] and result["cpu"] == [1]
    assert set(result["array"]) == {"1"} and result["array"]["1"] >= (32 << 20) // 4096, result


@pytest.mark.skipif(shutil.which("numactl") is None, reason="numactl places the job (apt-get install numactl)")
@pytest.mark.parametrize("memory_node,warned", [(1, True), (0, False)])
def test_doctor_on_a_job_placed_wrong_and_right(memory_node, warned):
    """CPUs on node 0, memory on node 1: remote-numa, its fix binding both to node 1 (where
    the memory is); memory on node 0 too: no remote-numa."""
    status, out = guest(2, "sh", "-c", placed_job(f"--cpunodebind=0 --membind={memory_node}")
                        + f"{HOSTMEM} doctor --pid $! --no-calibration --seconds 5 --json")
    assert status == 0, out
    report = json.loads(out[out.index("{"):])
    main = [process for process in report["job"]["processes"] if "numa_job.py" in process["command"]][0]
    assert main["placement"]["anonymousBytesByNode"].get(str(memory_node), 0) >= 250 << 20, main["placement"]
    remote = [finding for finding in report["findings"] if finding["id"] == "remote-numa"]
    assert bool(remote) == warned, [finding["id"] for finding in report["findings"]]
    if warned:
        assert remote[0]["severity"] in ("warning", "critical")
        assert "numactl --cpunodebind=1 --membind=1" in remote[0]["fix"], remote[0]["fix"]


def test_bench_numa_fills_the_matrix_with_pages_on_each_memory_node():
    """Every (CPU node, memory node) pair measured, its buffer bound to the memory node and
    found there page by page (move_pages), the distance the kernel's. The times in the
    guest are emulated and are not checked."""
    status, out = guest(2, HOSTMEM, "bench", "numa", "--size", "8MiB", "--repetitions", "1", "--json")
    assert status == 0, out
    pairs = json.loads(out)["numa"]["pairs"]
    assert sorted((pair["cpuNode"], pair["memoryNode"]) for pair in pairs) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for pair in pairs:
        assert pair["distance"] == (10 if pair["cpuNode"] == pair["memoryNode"] else 21)
        placement = pair["placement"]
        assert placement["policy"] == "bind" and placement["policyNodes"] == [pair["memoryNode"]]
        assert placement["pagesChecked"] > 0 and placement["pagesOnNode"] == placement["pagesChecked"]
        assert pair["latencyNanoseconds"]["median"] > 0


@pytest.mark.skipif(shutil.which("numactl") is None, reason="numactl places the job (apt-get install numactl)")
def test_numastat_of_a_job_placed_on_the_other_node():
    """numastat --pid: a job on node 0's CPU with its memory bound to node 1 has its
    anonymous pages on node 1 and runs on node 0."""
    script = placed_job("--cpunodebind=0 --membind=1") + f"{HOSTMEM} numastat --pid $! --json"
    status, out = guest(2, "sh", "-c", script)
    assert status == 0, out
    process = json.loads(out[out.index("["):])[0]
    assert process["runNode"] == 0 and process["allowedCPUs"] == [0]
    assert process["anonymous"]["1"] >= 250 << 20 and process["anonymous"].get("0", 0) < 16 << 20, process


@pytest.mark.skipif(shutil.which("numactl") is None, reason="numactl places the job (apt-get install numactl)")
def test_the_seeds_numastat_check_sees_remote_allocations():
    """The seed's check, machine-wide: pages allocated on a node for a CPU of another node
    (node*/numastat other_node) over all allocated in the window, above 15% while a job on
    node 0 allocates fresh memory bound to node 1; part of remote-numa's evidence."""
    status, out = guest(2, "sh", "-c", placed_job("--cpunodebind=0 --membind=1", churn=True)
                        + f"{HOSTMEM} doctor --pid $! --no-calibration --seconds 5 --json")
    assert status == 0, out
    report = json.loads(out[out.index("{"):])
    remote = [finding for finding in report["findings"] if finding["id"] == "remote-numa"]
    assert remote, [finding["id"] for finding in report["findings"]]
    shares = [evidence["value"] for evidence in remote[0]["evidence"] if evidence["metric"] == "other_node_allocation_percent"]
    assert shares and shares[0] > 15, remote[0]["evidence"]
