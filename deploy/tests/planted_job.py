"""A planted training-like job for the exporter's tests: the main process builds a
Python list of ~200 MiB, forks WORKERS workers that walk it (reference counting
copies the parent's pages: copy-on-write) and spin on the CPU, more workers than
this machine has CPUs. Its command line carries --hostmem-planted-TOKEN for --match."""
import os
import sys
import time

WORKERS = int(os.environ.get("PLANTED_WORKERS", str((os.cpu_count() or 2) + 2)))
ITEMS = int(os.environ.get("PLANTED_ITEMS", "4000000"))


def worker(data):
    total = 0
    while True:
        for item in data:  # touching each object writes its reference count
            total += item[0]
        if os.getppid() == 1:
            os._exit(0)


def main():
    data = [(i, str(i)) for i in range(ITEMS)]
    children = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            worker(data)
        children.append(pid)
    try:
        while True:
            time.sleep(0.5)
    finally:
        for pid in children:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    if not any(a.startswith("--hostmem-planted") for a in sys.argv):
        sys.exit("run with --hostmem-planted (or --hostmem-planted-TOKEN, for one exporter to match only this one)")
    main()
