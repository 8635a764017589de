#define _GNU_SOURCE
#include "hostmem_shim.h"

#include <errno.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

long hostmem_mbind(void *addr, unsigned long len, int mode,
                   const unsigned long *nodemask, unsigned long maxnode, unsigned flags) {
    return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

long hostmem_set_mempolicy(int mode, const unsigned long *nodemask, unsigned long maxnode) {
    return syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

long hostmem_get_mempolicy(int *mode, unsigned long *nodemask, unsigned long maxnode,
                           void *addr, unsigned long flags) {
    return syscall(SYS_get_mempolicy, mode, nodemask, maxnode, addr, flags);
}

long hostmem_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
                        int *status, int flags) {
    return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

long hostmem_gettid(void) { return syscall(SYS_gettid); }

int hostmem_set_affinity(int tid, const int *cpus, int count) {
    int highest = 0;
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0) { errno = EINVAL; return -1; }
        if (cpus[i] > highest) highest = cpus[i];
    }
    size_t size = CPU_ALLOC_SIZE(highest + 1);
    cpu_set_t *set = CPU_ALLOC(highest + 1);
    if (set == NULL) { errno = ENOMEM; return -1; }
    CPU_ZERO_S(size, set);
    for (int i = 0; i < count; i++) CPU_SET_S(cpus[i], size, set);
    int result = sched_setaffinity(tid, size, set);
    int saved = errno;
    CPU_FREE(set);
    errno = saved;
    return result;
}

int hostmem_get_affinity(int tid, int *cpus, int capacity) {
    // Grow the set until the kernel accepts its size (EINVAL means too small).
    for (int possible = 1024; possible <= (1 << 20); possible *= 2) {
        size_t size = CPU_ALLOC_SIZE(possible);
        cpu_set_t *set = CPU_ALLOC(possible);
        if (set == NULL) { errno = ENOMEM; return -1; }
        CPU_ZERO_S(size, set);
        if (sched_getaffinity(tid, size, set) != 0) {
            int saved = errno;
            CPU_FREE(set);
            if (saved == EINVAL) continue;
            errno = saved;
            return -1;
        }
        int found = 0;
        for (int cpu = 0; cpu < possible; cpu++) {
            if (CPU_ISSET_S(cpu, size, set)) {
                if (found < capacity) cpus[found] = cpu;
                found++;
            }
        }
        CPU_FREE(set);
        return found;
    }
    errno = EINVAL;
    return -1;
}

int hostmem_current_cpu(void) { return sched_getcpu(); }

static volatile sig_atomic_t hostmem_caught_signal = 0;

static void hostmem_record_signal(int signal) { hostmem_caught_signal = signal; }

int hostmem_catch_signal(int signal) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = hostmem_record_signal;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL);
}

int hostmem_peek_signal(void) { return hostmem_caught_signal; }


int hostmem_perf_open(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                      int pid, int cpu, int inherit, int exclude_kernel, int enable_on_exec) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.config1 = config1;
    attr.config2 = config2;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.inherit = inherit ? 1 : 0;
    attr.exclude_kernel = exclude_kernel ? 1 : 0;
    attr.exclude_hv = 1;
    if (enable_on_exec) {
        attr.disabled = 1;
        attr.enable_on_exec = 1;
    }
    return (int)syscall(SYS_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int hostmem_perf_read(int fd, uint64_t *value, uint64_t *enabled, uint64_t *running) {
    uint64_t values[3];
    ssize_t got = read(fd, values, sizeof values);
    if (got != (ssize_t)sizeof values) {
        if (got >= 0) errno = EIO;
        return -1;
    }
    *value = values[0];
    *enabled = values[1];
    *running = values[2];
    return 0;
}
