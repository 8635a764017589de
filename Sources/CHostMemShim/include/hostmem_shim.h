// C shim for hostmem: Linux calls that glibc does not wrap (mbind, move_pages and the
// other NUMA syscalls), cpu_set_t macros, and the few instructions Swift cannot spell.
// Every function carries the project prefix; nothing here allocates or keeps state.
#ifndef HOSTMEM_SHIM_H
#define HOSTMEM_SHIM_H

#include <stddef.h>
#include <stdint.h>

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

/// Whether this CPU runs AVX2 and FMA, and AVX-512F (the embedding-bag kernels below).
int hostmem_has_avx2_fma(void);
int hostmem_has_avx512(void);

/// A hot-row cache as the kernels read it: an open-addressing table of (row, slot) pairs
/// (`entries[2i]` the row, -1 where empty; `entries[2i+1]` its slot), probed from the row's
/// multiplicative hash & mask. A held row's bytes (the table's own row format) are at
/// rows + slot × row bytes.
typedef struct hostmem_row_cache {
    const int32_t *entries;
    long mask;
    const unsigned char *rows;
} hostmem_row_cache;

/// The sort+dedup knob's prefetch stream: `rows` the `count` distinct rows of the lookups
/// from `first_position` on, in the order of their first use; `first_use[p - first_position]`
/// is 1 where lookup p is the first use of its row, else 0.
typedef struct hostmem_distinct_rows {
    const int32_t *rows;
    long count;
    const uint8_t *first_use;
    long first_position;
} hostmem_distinct_rows;

/// Tables of at most this many rows are deduplicated with a bitmap of their rows (a bit
/// each, 4 MiB at most, one per thread that deduplicates, kept); larger ones by sorting
/// the lookups.
#define HOSTMEM_DEDUP_BITMAP_ROWS (1l << 25)

/// Fills a dedup stream for `count` lookups of a `table_rows`-row table: marks each row's
/// first use in `first_use` (count bytes) and lists the distinct rows in that order in
/// `rows` (count entries); returns how many there are. Found with this thread's bitmap
/// of the table's rows when the table has at most HOSTMEM_DEDUP_BITMAP_ROWS rows (and the
/// bitmap can be allocated, and `allow_bitmap`), else by radix-sorting (row << 32 | position)
/// keys in `keys` with `scratch` (count entries each; unused with the bitmap).
long hostmem_first_uses(const int *indices, long count, long table_rows, int allow_bitmap, uint64_t *keys,
                        uint64_t *scratch, uint8_t *first_use, int32_t *rows);

/// Embedding-bag sum over bags [first_bag, end_bag): out[b] = Σ weight × table[indices[p]]
/// for p in the bag (bag b spans offsets[b] ..< offsets[b+1], the last one to n_indices).
/// `int8`: rows are 8-bit row-wise (dim uint8 codes, fp32 scale, fp32 bias), else fp32.
/// `weights` may be NULL. Before each bag, the rows up to `prefetch` lookups past it are
/// prefetched into L2 (0: none), each once; with `distinct` (NULL: none), the distinct
/// rows up to `prefetch` first uses past it. Rows the `cache` holds (NULL: none) are read
/// from it. `dim` a multiple of 16 (AVX-512) or 8 (AVX2 + FMA); check the CPU first.
void hostmem_bag_sum_avx512(const void *table, long dim, int int8, const int *indices, long n_indices,
                            const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                            float *out, long prefetch, const hostmem_row_cache *cache,
                            const hostmem_distinct_rows *distinct);
void hostmem_bag_sum_avx2(const void *table, long dim, int int8, const int *indices, long n_indices,
                          const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                          float *out, long prefetch, const hostmem_row_cache *cache,
                          const hostmem_distinct_rows *distinct);

/// Runs `iterations` rounds of 64 dependent integer additions (one per cycle on every
/// CPU we know), so the core clock is (64 × iterations) / elapsed time.
uint64_t hostmem_dependent_adds(uint64_t iterations);

/// A compiler barrier that makes `value` look used, so a benchmark's work is kept.
static inline void hostmem_black_hole(uint64_t value) {
    __asm__ __volatile__("" : : "r"(value) : "memory");
}

/// Increments a counter with a plain (non-atomic) load and store that the compiler
/// must emit every time: the access pattern of per-thread counters in one cache line.
static inline void hostmem_volatile_increment(uint64_t *counter) {
    *(volatile uint64_t *)counter += 1;
}

/// Asks the CPU to start loading the line at `address` into L2 and beyond, not L1 (a
/// hint; it never faults). L1 has few miss buffers: prefetches into it stall sooner.
static inline void hostmem_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 1);
}

/// Reads a 64-bit value the compiler must load every time.
static inline uint64_t hostmem_volatile_load(const uint64_t *address) {
    return *(const volatile uint64_t *)address;
}

#endif
