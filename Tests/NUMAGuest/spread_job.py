"""A training-job shape for the NUMA guest: the main process (on CPU 0) forks two workers
that compute, each bound to a CPU given on the command line (worker i to CPUS[i]), as
DataLoader workers an unbound job lets the scheduler spread; touches `ready` once both run.

    python3 spread_job.py SECONDS READY CPU0,CPU1"""
import os
import sys
import time

seconds, ready, cpus = float(sys.argv[1]), sys.argv[2], [int(cpu) for cpu in sys.argv[3].split(",")]
os.sched_setaffinity(0, {0})
children = []
for cpu in cpus:
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cpu})
        end, total = time.time() + seconds, 0
        while time.time() < end:
            total += sum(range(1000))
        os._exit(0)
    children.append(pid)
time.sleep(1)
open(ready, "w").close()
for pid in children:
    os.waitpid(pid, 0)
