// C shim for hostmem: Linux calls that glibc does not wrap (mbind, move_pages and the
// other NUMA syscalls, perf_event_open), cpu_set_t macros and a signal flag. Imported by
// HostMemPlatform only, the one door to the kernel; the compute kernels are in
// CHostMemKernels. Every function carries the project prefix.
#ifndef HOSTMEM_SHIM_H
#define HOSTMEM_SHIM_H

#include <stddef.h>
#include <stdint.h>

// Internal to hostmem: not exported from libhostmem_c.so, whose contract is include/hostmem.h.
#pragma GCC visibility push(hidden)

/// mbind(2) through syscall(2). Returns 0 or -1 with errno set.
long hostmem_mbind(void *addr, unsigned long len, int mode,
                   const unsigned long *nodemask, unsigned long maxnode, unsigned flags);
/// set_mempolicy(2) through syscall(2).
long hostmem_set_mempolicy(int mode, const unsigned long *nodemask, unsigned long maxnode);
/// get_mempolicy(2) through syscall(2).
long hostmem_get_mempolicy(int *mode, unsigned long *nodemask, unsigned long maxnode,
                           void *addr, unsigned long flags);
/// move_pages(2) through syscall(2); with nodes == NULL it only reports where each page is.
long hostmem_move_pages(int pid, unsigned long count, void **pages, const int *nodes,
                        int *status, int flags);
/// gettid(2).
long hostmem_gettid(void);
/// sched_setaffinity(2) for thread `tid` (0: the caller) over `count` CPU numbers,
/// building a dynamically sized cpu_set_t so machines with more than 1024 CPUs work.
int hostmem_set_affinity(int tid, const int *cpus, int count);
/// sched_getaffinity(2): writes up to `capacity` allowed CPU numbers into `cpus` and
/// returns how many there are, or -1 with errno set.
int hostmem_get_affinity(int tid, int *cpus, int capacity);
/// sched_getcpu(3).
int hostmem_current_cpu(void);

/// Installs a sigaction handler for `signal` that only records it (async-signal-safe):
/// the program polls hostmem_peek_signal() between steps. Returns 0 or -1 with errno.
int hostmem_catch_signal(int signal);
/// The last caught signal number; 0 when none.
int hostmem_peek_signal(void);

/// perf_event_open(2) for counting (no sampling): builds the perf_event_attr with
/// read_format TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING (so multiplexed counts can be
/// scaled). Returns the fd or -1 with errno set.
/// With enable_on_exec the event starts disabled and turns on when the task execs:
/// opened on the calling thread with inherit before spawning a command, it counts
/// exactly that command (how `perf stat -- CMD` does it).
int hostmem_perf_open(uint32_t type, uint64_t config, uint64_t config1, uint64_t config2,
                      int pid, int cpu, int inherit, int exclude_kernel, int enable_on_exec);
/// Reads a counter opened by hostmem_perf_open: value, time enabled, time running (ns).
int hostmem_perf_read(int fd, uint64_t *value, uint64_t *enabled, uint64_t *running);

/// A spin-wait hint (x86 `pause`, ARM `yield`): lets the sibling hardware thread run and
/// saves power while a thread polls a flag.
static inline void hostmem_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#pragma GCC visibility pop

#endif
