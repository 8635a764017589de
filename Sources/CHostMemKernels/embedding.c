// Embedding-bag kernels in C with AVX-512 or AVX2 + FMA, chosen at run time by the
// Swift side (the rest of hostmem is built for the x86-64 baseline).
//
// Each bag is summed a block of columns at a time in registers (up to 16 accumulators:
// AVX-512 256 columns; AVX2 128 columns of fp32 without weights, else 96–112), and
// written once.
//
// Prefetch, two styles; which is faster depends on the CPU, so the bag can measure both
// on its own table (EmbeddingBag.tunedPrefetchStyle).
// - Burst: before each bag, every cache line of the rows up to `prefetch` lookups past it
//   is requested, each row once, into L2 rather than L1 (L1 has few miss buffers, and T0
//   prefetches stalled on them). On a Zen 4 guest one burst per bag was faster than a
//   prefetch per lookup inside the loop (fp32 4 M × 128, uniform: 14–17 → 30 M
//   lookups/s; a Zipf batch 35–40 → 44 M): the loop stays short, so more of the bag's
//   loads are in flight. With the dedup knob's distinct rows, the burst covers the
//   distinct rows up to `prefetch` first uses past the bag: each fetched once, however
//   often the hot ones repeat.
// - Per lookup: each lookup asks for the row `prefetch` lookups after it (fp32: each of
//   its lines right after the load of the same line of this row; 8-bit: the whole row
//   first). On an Emerald Rapids guest this kept the miss buffers evenly busy where a
//   burst of ~100 lines stalled on them: int8 4 M × 128 uniform 30 → 43 M lookups/s.
//
// The loop is specialized (fp32 or 8-bit, with or without the hot-row cache, which
// prefetch stream, burst or per lookup) by inlining one body with constant flags: at -O2, which SwiftPM builds
// C with, a loop that tests them per lookup ran ~20% slower (measured, fp32 Zipf). The
// body is written once, in bag_sum_body.h, and included once per vector width.
#include "hostmem_kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// A bit per table row, one bitmap per thread (kept, and left all zero after each use).
static pthread_key_t seen_key;
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;
static __thread uint64_t *seen_words;
static __thread long seen_capacity;

static void make_seen_key(void) { pthread_key_create(&seen_key, free); }

/// This thread's bitmap of at least `words` zero words, or NULL when it cannot be had.
static uint64_t *thread_bitmap(long words) {
    if (seen_capacity < words) {
        pthread_once(&seen_once, make_seen_key);
        uint64_t *grown = calloc((size_t)words, sizeof(uint64_t));
        if (!grown) return NULL;
        free(seen_words);
        seen_words = grown;
        seen_capacity = words;
        pthread_setspecific(seen_key, grown);  // freed when the thread ends
    }
    return seen_words;
}

long hostmem_first_uses(const int *indices, long count, long table_rows, int allow_bitmap, uint64_t *keys,
                        uint64_t *scratch, uint8_t *first_use, int32_t *rows) {
    int small = allow_bitmap && table_rows <= HOSTMEM_DEDUP_BITMAP_ROWS;
    uint64_t *seen = small ? thread_bitmap((table_rows + 63) / 64) : NULL;
    long distinct = 0;
    if (seen) {
        // Test and set each row's bit: ~0.12 ms for 65,536 Zipf lookups on 4 M rows,
        // against ~0.40 ms for the sort below (measured on this Zen 4 guest).
        for (long i = 0; i < count; i++) {
            uint32_t row = (uint32_t)indices[i];
            uint64_t word = seen[row / 64], bit = 1ull << (row % 64);
            uint8_t first = (word & bit) == 0;
            seen[row / 64] = word | bit;
            first_use[i] = first;
            rows[distinct] = (int32_t)row;  // branch-free: most lookups of a Zipf batch repeat a row
            distinct += first;
        }
        for (long i = 0; i < distinct; i++) seen[(uint32_t)rows[i] / 64] = 0;
        return distinct;
    }
    // (row << 32 | position), sorted by row, least significant 11 bits first: stable, so
    // a row's run starts at its first use.
    int row_bits = 1;
    while (row_bits < 32 && (1l << row_bits) < table_rows) row_bits++;
    for (long i = 0; i < count; i++) keys[i] = (uint64_t)(uint32_t)indices[i] << 32 | (uint64_t)i;
    long counts[2048];
    uint64_t *source = keys, *target = scratch;
    for (int shift = 32; shift < 32 + row_bits; shift += 11) {
        memset(counts, 0, sizeof counts);
        for (long i = 0; i < count; i++) counts[(source[i] >> shift) & 2047]++;
        long total = 0;
        for (int digit = 0; digit < 2048; digit++) {
            long digits = counts[digit];
            counts[digit] = total;
            total += digits;
        }
        for (long i = 0; i < count; i++) target[counts[(source[i] >> shift) & 2047]++] = source[i];
        uint64_t *sorted = target;
        target = source;
        source = sorted;
    }
    memset(first_use, 0, (size_t)count);
    uint64_t previous = UINT64_MAX;
    for (long i = 0; i < count; i++) {
        if (source[i] >> 32 == previous) continue;
        previous = source[i] >> 32;
        first_use[(uint32_t)source[i]] = 1;
    }
    for (long i = 0; i < count; i++) {
        rows[distinct] = indices[i];
        distinct += first_use[i];
    }
    return distinct;
}

/// Every cache line of a row, once each (an int8 row need not start on a line), into L2
/// (`near` 0: prefetcht2 on x86) or into L1 (`near` 1: prefetcht0). Rows of up to eight
/// lines are unrolled: with a loop, the prefetch bursts measured slower (fp32 Zipf 34 vs
/// 41 M lookups/s, interleaved runs; int8 the same either way).
#define PREFETCH_LINE(at) (near ? __builtin_prefetch((at), 0, 3) : hostmem_prefetch(at))
__attribute__((always_inline)) static inline void prefetch_row(const unsigned char *row, long bytes, const int near) {
    uintptr_t first = (uintptr_t)row & ~(uintptr_t)63, last = ((uintptr_t)row + (uintptr_t)bytes - 1) & ~(uintptr_t)63;
    const unsigned char *line = (const unsigned char *)first;
    switch ((last - first) / 64) {
    case 7: PREFETCH_LINE(line + 448); __attribute__((fallthrough));
    case 6: PREFETCH_LINE(line + 384); __attribute__((fallthrough));
    case 5: PREFETCH_LINE(line + 320); __attribute__((fallthrough));
    case 4: PREFETCH_LINE(line + 256); __attribute__((fallthrough));
    case 3: PREFETCH_LINE(line + 192); __attribute__((fallthrough));
    case 2: PREFETCH_LINE(line + 128); __attribute__((fallthrough));
    case 1: PREFETCH_LINE(line + 64); __attribute__((fallthrough));
    case 0: PREFETCH_LINE(line); break;
    default:
        for (uintptr_t at = first; at <= last; at += 64) PREFETCH_LINE((const void *)at);
    }
}
#undef PREFETCH_LINE

static inline void prefetch_row_l2(const unsigned char *row, long bytes) { prefetch_row(row, bytes, 0); }

// Line `k` of a row read whole (64 bytes XORed into `folded`; in the AVX-512 entry one
// load, in the AVX2 one two, in the baseline four), and with `prefetching` the line 64 × k
// bytes into the row ahead asked for right after (never a fault, even past the table's end).
typedef uint64_t hostmem_line __attribute__((vector_size(64), aligned(1)));
#define GATHER_LINE(k)                                                                                         \
    do {                                                                                                       \
        folded ^= *(const hostmem_line *)(line + 64 * (k));                                                    \
        if (prefetching) hostmem_prefetch(ahead + 64 * (k));                                                   \
    } while (0)

/// Every line of a row read once, straight-line for rows of up to eight lines (a loop per
/// line costs more instructions than the loads, and fewer lines then fit the CPU's
/// window: the embedding kernel, two adds per line, outran a looped probe by 30%).
__attribute__((always_inline)) static inline hostmem_line gather_row(const unsigned char *row, long bytes,
                                                                      const unsigned char *ahead, const int prefetching) {
    uintptr_t line = (uintptr_t)row & ~(uintptr_t)63, last = ((uintptr_t)row + (uintptr_t)bytes - 1) & ~(uintptr_t)63;
    hostmem_line folded = {0};
    long lines = (long)((last - line) / 64) + 1;
    switch (lines) {
    case 8: GATHER_LINE(7); __attribute__((fallthrough));
    case 7: GATHER_LINE(6); __attribute__((fallthrough));
    case 6: GATHER_LINE(5); __attribute__((fallthrough));
    case 5: GATHER_LINE(4); __attribute__((fallthrough));
    case 4: GATHER_LINE(3); __attribute__((fallthrough));
    case 3: GATHER_LINE(2); __attribute__((fallthrough));
    case 2: GATHER_LINE(1); __attribute__((fallthrough));
    case 1: GATHER_LINE(0); break;
    default:
        for (long k = 0; k < lines; k++) GATHER_LINE(k);
    }
    // The row ahead's last line, which the ones above miss when it starts later in its line.
    if (prefetching && bytes % 64) hostmem_prefetch(ahead + bytes - 1);
    return folded;
}

__attribute__((always_inline)) static inline uint64_t gather_rows(const void *table, long row_bytes, const int *indices, long count,
                                                                   long prefetch, long burst) {
    const unsigned char *base = table;
    hostmem_line folded = {0};
    long p = 0;
    if (burst > 0 && prefetch > 0) {  // before each group of `burst` lookups, the rows up to `prefetch` past it, into L2
        long asked = 0;
        for (; p < count; p++) {
            if (p % burst == 0)
                for (long upto = p + burst + prefetch; asked < upto && asked < count; asked++)
                    prefetch_row_l2(base + (long)indices[asked] * row_bytes, row_bytes);
            folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base, 0);
        }
    }
    if (prefetch < 0)  // the whole row -prefetch ahead into L1, then this one read
        for (; p - prefetch < count; p++) {
            prefetch_row(base + (long)indices[p - prefetch] * row_bytes, row_bytes, 1);
            folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base, 0);
        }
    if (prefetch > 0)
        for (; p + prefetch < count; p++)
            folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base + (long)indices[p + prefetch] * row_bytes, 1);
    for (; p < count; p++) folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base, 0);
    return folded[0] ^ folded[1] ^ folded[2] ^ folded[3] ^ folded[4] ^ folded[5] ^ folded[6] ^ folded[7];
}

static uint64_t gather_rows_baseline(const void *table, long row_bytes, const int *indices, long count, long prefetch, long burst) {
    return gather_rows(table, row_bytes, indices, count, prefetch, burst);
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static uint64_t gather_rows_avx512(const void *table, long row_bytes, const int *indices,
                                                                       long count, long prefetch, long burst) {
    return gather_rows(table, row_bytes, indices, count, prefetch, burst);
}
__attribute__((target("avx2"))) static uint64_t gather_rows_avx2(const void *table, long row_bytes, const int *indices, long count,
                                                                  long prefetch, long burst) {
    return gather_rows(table, row_bytes, indices, count, prefetch, burst);
}
#endif

uint64_t hostmem_gather_rows(const void *table, long row_bytes, const int *indices, long count, long prefetch, long burst) {
#if defined(__x86_64__)
    if (hostmem_has_avx512()) return gather_rows_avx512(table, row_bytes, indices, count, prefetch, burst);
    if (hostmem_has_avx2_fma()) return gather_rows_avx2(table, row_bytes, indices, count, prefetch, burst);
#endif
    return gather_rows_baseline(table, row_bytes, indices, count, prefetch, burst);
}

#if defined(__x86_64__)
#include <immintrin.h>

int hostmem_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

int hostmem_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

static inline long bag_end(const int *offsets, long n_offsets, long n_indices, long b) {
    return b + 1 < n_offsets ? offsets[b + 1] : n_indices;
}

/// The address of `row`: the hot-row cache's copy when it holds the row, else the table's.
static inline const unsigned char *row_address(const unsigned char *table, long row, long row_bytes,
                                               const hostmem_row_cache *cache) {
    if (cache) {
        long probe = (long)(((uint64_t)row * 0x9E3779B97F4A7C15ull) >> 32) & cache->mask;
        for (;;) {
            int32_t key = cache->entries[2 * probe];
            if (key == -1) break;
            if (key == row) return cache->rows + (long)cache->entries[2 * probe + 1] * row_bytes;
            probe = (probe + 1) & cache->mask;
        }
    }
    return table + row * row_bytes;
}

// ---- Bag sums: one body (bag_sum_body.h), compiled for each vector width ----

// Loads of one vector of fp32 values, or of 8-bit codes widened to fp32.
__attribute__((target("avx512f")))
static inline __m512 load_f32_512(const unsigned char *at) { return _mm512_loadu_ps((const float *)at); }
__attribute__((target("avx512f")))
static inline __m512 load_u8_512(const unsigned char *at) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)at)));
}
__attribute__((target("avx512f")))
static inline __m512 load_f16_512(const unsigned char *at) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)at)); }
__attribute__((target("avx512f")))
static inline __m512 load_bf16_512(const unsigned char *at) {  // bf16 is the top half of a fp32
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)at)), 16));
}
__attribute__((target("avx2,fma,f16c")))
static inline __m256 load_f32_256(const unsigned char *at) { return _mm256_loadu_ps((const float *)at); }
__attribute__((target("avx2,fma,f16c")))
static inline __m256 load_u8_256(const unsigned char *at) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)at)));
}
__attribute__((target("avx2,fma,f16c")))
static inline __m256 load_f16_256(const unsigned char *at) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)at)); }
__attribute__((target("avx2,fma,f16c")))
static inline __m256 load_bf16_256(const unsigned char *at) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)at)), 16));
}

/// What every lookup of one call shares: the table and its row stride (fp32: dim × 4;
/// 8-bit: dim codes, a scale and a bias), the bags, and the prefetch stream's end.
struct bag_call {
    const unsigned char *table;
    long dim, stride;
    const int *indices;
    long n_indices;
    const int *offsets;
    long n_offsets;
    const float *weights;
    float *out;
    long prefetch;
    const hostmem_row_cache *cache;
    const hostmem_distinct_rows *distinct;
    long stream_end;
};

#define BAG_NAME hostmem_bag_sum_avx512
#define BAG_ISA "avx512f"
#define BAG_VEC __m512
#define BAG_LANES 16
#define BAG_REGISTERS 32
#define BAG_ZERO _mm512_setzero_ps
#define BAG_SET1 _mm512_set1_ps
#define BAG_FMADD _mm512_fmadd_ps
#define BAG_ADD _mm512_add_ps
#define BAG_STORE _mm512_storeu_ps
#define BAG_LOAD_F32 load_f32_512
#define BAG_LOAD_U8 load_u8_512
#define BAG_LOAD_F16 load_f16_512
#define BAG_LOAD_BF16 load_bf16_512
#include "bag_sum_body.h"

#define BAG_NAME hostmem_bag_sum_avx2
#define BAG_ISA "avx2,fma,f16c"
#define BAG_VEC __m256
#define BAG_LANES 8
#define BAG_REGISTERS 16
#define BAG_ZERO _mm256_setzero_ps
#define BAG_SET1 _mm256_set1_ps
#define BAG_FMADD _mm256_fmadd_ps
#define BAG_ADD _mm256_add_ps
#define BAG_STORE _mm256_storeu_ps
#define BAG_LOAD_F32 load_f32_256
#define BAG_LOAD_U8 load_u8_256
#define BAG_LOAD_F16 load_f16_256
#define BAG_LOAD_BF16 load_bf16_256
#include "bag_sum_body.h"

#else
int hostmem_has_avx2_fma(void) { return 0; }
int hostmem_has_avx512(void) { return 0; }
void hostmem_bag_sum_avx512(const void *table, long dim, int format, const int *indices, long n_indices,
                            const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                            float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                            const hostmem_distinct_rows *distinct) {}
void hostmem_bag_sum_avx2(const void *table, long dim, int format, const int *indices, long n_indices,
                          const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                          float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                          const hostmem_distinct_rows *distinct) {}
#endif
