// Compute kernels for hostmem: the embedding-bag sums (AVX-512, AVX2), the dedup
// stream, the core-clock add chain and the few instructions Swift cannot spell (prefetch,
// volatile access, a black hole). No system calls: those are in CHostMemShim.
#ifndef HOSTMEM_KERNELS_H
#define HOSTMEM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// Internal to hostmem: not exported from libhostmem_c.so, whose contract is include/hostmem.h.
#pragma GCC visibility push(hidden)

/// Whether this CPU runs AVX2, FMA and F16C, and AVX-512F (the embedding-bag kernels below).
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

/// How a table's rows are stored: fp32 values; 8-bit row-wise (dim uint8 codes, a fp32
/// scale, a fp32 bias); IEEE fp16 values; bfloat16 values (the top half of a fp32).
#define HOSTMEM_ROWS_F32 0
#define HOSTMEM_ROWS_INT8 1
#define HOSTMEM_ROWS_F16 2
#define HOSTMEM_ROWS_BF16 3

/// Embedding-bag sum over bags [first_bag, end_bag): out[b] = Σ weight × table[indices[p]]
/// for p in the bag (bag b spans offsets[b] ..< offsets[b+1], the last one to n_indices).
/// `format`: how rows are stored (a HOSTMEM_ROWS_… constant); sums are fp32.
/// `weights` may be NULL. Before each bag, the rows up to `prefetch` lookups past it are
/// prefetched into L2 (0: none), each once; with `distinct` (NULL: none), the distinct
/// rows up to `prefetch` first uses past it. `per_lookup` (without `distinct`): instead
/// of a burst per bag, each lookup prefetches the row `prefetch` lookups after it (1 —
/// fp32: each line right after loading the same line of its own row; 2: the whole row
/// before its own; 8-bit rows are always prefetched whole).
/// Rows the `cache` holds (NULL: none) are read
/// from it. `dim` a multiple of 16 (AVX-512) or 8 (AVX2 + FMA); check the CPU first.
void hostmem_bag_sum_avx512(const void *table, long dim, int format, const int *indices, long n_indices,
                            const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                            float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                            const hostmem_distinct_rows *distinct);
void hostmem_bag_sum_avx2(const void *table, long dim, int format, const int *indices, long n_indices,
                          const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                          float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                          const hostmem_distinct_rows *distinct);

/// The random-row gather alone, the limit an embedding bag is measured against: reads
/// every cache line of row indices[p] whole for each p (rows of `row_bytes`, packed),
/// with the widest loads this CPU has (AVX-512: one per line; AVX2: two; else four),
/// straight-line code for rows of up to 8 lines, with no arithmetic on them beyond an XOR; with `prefetch` > 0, each line read is followed by
/// a request for the same line of row p + prefetch (into L2), and its last line when it
/// spans one more; with `prefetch` < 0, each row -prefetch ahead is asked for whole, into
/// L1, before row p is read; with `burst` > 0 (and `prefetch` > 0), before each group of
/// `burst` lookups the rows up to `prefetch` past the group are asked for, into L2, as the
/// bag's burst prefetch does per bag. Returns the XOR.
uint64_t hostmem_gather_rows(const void *table, long row_bytes, const int *indices, long count, long prefetch, long burst);

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

#pragma GCC visibility pop

#endif
