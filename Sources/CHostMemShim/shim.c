#define _GNU_SOURCE
#include "hostmem_shim.h"

#include <errno.h>
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

uint64_t hostmem_dependent_adds(uint64_t iterations) {
    uint64_t value = 1;
#if defined(__x86_64__)
    for (uint64_t i = 0; i < iterations; i++) {
        __asm__ __volatile__(
            ".rept 64\n\t"
            "addq $1, %0\n\t"
            ".endr"
            : "+r"(value));
    }
#elif defined(__aarch64__)
    for (uint64_t i = 0; i < iterations; i++) {
        __asm__ __volatile__(
            ".rept 64\n\t"
            "add %0, %0, #1\n\t"
            ".endr"
            : "+r"(value));
    }
#else
    volatile uint64_t sink = value;
    for (uint64_t i = 0; i < iterations * 64; i++) sink = sink + 1;
    value = sink;
#endif
    return value;
}
