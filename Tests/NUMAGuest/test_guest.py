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
    assert set(result["bag_table"]) == {"1"} and result["bag_table"]["1"] >= (16384 * 128 * 4) // 4096 - 1, result
    assert set(result["before_move"]) == {"0"}, result
    assert set(result["moved"]) == {"1"} and result["moved"]["1"] >= (8 << 20) // 4096 - 1, result


def test_swift_loader_and_embedding_bag_placed_on_a_node():
    """`hostmem loader --node 1` and `hostmem embed --node 1`: the workers on node 1's CPU,
    the batch buffers and both tables (fp32 and 8-bit) on node 1, page by page (move_pages)."""
    pytest.importorskip("numpy")
    data = "/tmp/records.npy"
    script = (f"{PYTHON} -c \"import numpy; numpy.save('{data}', numpy.ones((65536, 64), dtype=numpy.float32))\" && "
              f"{HOSTMEM} loader --data {data} --node 1 --workers 1 --seconds 0.5 --json && echo '---' && "
              f"{HOSTMEM} embed --rows 64k --node 1 --knobs plain --seconds 0.2 --json")
    status, out = guest(2, "sh", "-c", script)
    assert status == 0, out
    loader_text, embed_text = out.split("\n---\n")
    loader = json.loads(loader_text[loader_text.index("{"):])
    assert loader["cpus"] == [1], loader["cpus"]
    buffers = loader["bufferPlacement"]
    assert buffers["policy"] == "bind" and buffers["policyNodes"] == [1], buffers
    assert set(buffers["pagesByNode"]) == {"1"} and buffers["pagesByNode"]["1"] == buffers["pagesChecked"], buffers
    embed = json.loads(embed_text[embed_text.index("{"):])
    assert embed["memoryNode"] == 1
    assert sorted(embed["tablePlacement"]) == ["float32", "int8RowWise"], embed.get("tablePlacement")
    for storage, placement in embed["tablePlacement"].items():
        assert set(placement["pagesByNode"]) == {"1"} and placement["pagesByNode"]["1"] == placement["pagesChecked"], (storage, placement)


def test_bind_to_gpu_on_an_eight_gpu_servers_layout():
    """An 8-GPU server's PCI view (DGX H100: GPUs 0–3 on node 0, 4–7 on node 1) over the
    guest's sysfs: bind_to_gpu(i) binds each GPU's child to its node's CPU and its new pages
    to its node, and CUDA_VISIBLE_DEVICES=5,2 makes GPU 0 the one on node 1; `topo` shows the
    eight with their nodes, `loader --gpu 6` puts its buffers on node 1."""
    pytest.importorskip("numpy")
    script = (f"export HOSTMEM_LIB={ROOT}/.build/debug/libhostmem_c.so; "
              f"{PYTHON} -c \"import numpy; numpy.save('/tmp/r.npy', numpy.ones((16384, 64), dtype=numpy.float32))\" && "
              "unshare -m sh Tests/NUMAGuest/gpu_server.sh sh -c '"
              f"{PYTHON} Tests/NUMAGuest/gpu_binding.py all 8 && {PYTHON} Tests/NUMAGuest/gpu_binding.py 5,2 2 && "
              f"{HOSTMEM} topo --json && echo --- && {HOSTMEM} loader --data /tmp/r.npy --gpu 6 --workers 1 --seconds 0.3 --json'")
    status, out = guest(2, "sh", "-c", script)
    assert status == 0, out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"gpu"')]
    assert [(line["gpu"], line["node"]) for line in lines] == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (7, 1), (0, 1), (1, 0)], lines
    for line in lines:
        assert line["cpus"] == [line["node"]] and line["allowed"] == [line["node"]], line
        assert set(line["pages"]) == {str(line["node"])} and line["pages"][str(line["node"])] >= (16 << 20) // 4096 - 1, line
    topo_text, loader_text = out[out.index("\n", out.rindex('{"gpu"')) + 1:].split("\n---\n")
    topology = json.loads(topo_text)
    assert [(gpu["pciAddress"], gpu["numaNode"]) for gpu in topology["gpus"]] == [
        ("0000:1b:00.0", 0), ("0000:43:00.0", 0), ("0000:52:00.0", 0), ("0000:61:00.0", 0),
        ("0000:9d:00.0", 1), ("0000:c3:00.0", 1), ("0000:d1:00.0", 1), ("0000:df:00.0", 1)]
    loader = json.loads(loader_text[loader_text.index("{"):])
    assert loader["cpus"] == [1] and set(loader["bufferPlacement"]["pagesByNode"]) == {"1"}, loader


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


@pytest.mark.parametrize("cpus,warned", [("0,1", True), ("0,0", False)])
def test_doctor_on_workers_spread_over_the_nodes(cpus, warned):
    """Two forked workers computing on CPUs 0 and 1 (one per node): workers-across-sockets,
    its fix binding the job to node 0, where its main process runs; both on CPU 0: none."""
    script = (f"{PYTHON} Tests/NUMAGuest/spread_job.py 40 /tmp/ready {cpus} & "
              "while [ ! -e /tmp/ready ]; do sleep 1; done; "
              f"{HOSTMEM} doctor --pid $! --no-calibration --seconds 4 --json")
    status, out = guest(2, "sh", "-c", script)
    assert status == 0, out
    report = json.loads(out[out.index("{"):])
    workers = [process for process in report["job"]["processes"] if process["role"] == "worker"]
    assert len(workers) == 2, [(process["pid"], process["role"]) for process in report["job"]["processes"]]
    spread = [finding for finding in report["findings"] if finding["id"] == "workers-across-sockets"]
    assert bool(spread) == warned, [finding["id"] for finding in report["findings"]]
    if warned:
        assert "numactl --cpunodebind=0 --membind=0" in spread[0]["fix"], spread[0]["fix"]


def test_bench_numa_fills_the_matrix_with_pages_on_each_memory_node():
    """Every (CPU node, memory node) pair measured, its buffer bound to the memory node and
    found there page by page (move_pages), the distance the kernel's. The times in the
    guest are emulated and are not checked."""
    status, out = guest(2, HOSTMEM, "bench", "numa", "--size", "8MiB", "--repetitions", "1", "--json")
    assert status == 0, out
    numa = json.loads(out)["numa"]
    assert any("the CPU is emulated (QEMU TCG" in note for note in numa["notes"]), numa["notes"]
    pairs = numa["pairs"]
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
