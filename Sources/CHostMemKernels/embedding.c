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
// C with, a loop that tests them per lookup ran ~20% slower (measured, fp32 Zipf).
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

/// Every cache line of a row, once each (an int8 row need not start on a line). Rows of
/// up to eight lines are unrolled: with a loop, the prefetch bursts measured slower (fp32
/// Zipf 34 vs 41 M lookups/s, interleaved runs; int8 the same either way).
static inline void prefetch_row_l2(const unsigned char *row, long bytes) {
    uintptr_t first = (uintptr_t)row & ~(uintptr_t)63, last = ((uintptr_t)row + (uintptr_t)bytes - 1) & ~(uintptr_t)63;
    const unsigned char *line = (const unsigned char *)first;
    switch ((last - first) / 64) {
    case 7: hostmem_prefetch(line + 448); __attribute__((fallthrough));
    case 6: hostmem_prefetch(line + 384); __attribute__((fallthrough));
    case 5: hostmem_prefetch(line + 320); __attribute__((fallthrough));
    case 4: hostmem_prefetch(line + 256); __attribute__((fallthrough));
    case 3: hostmem_prefetch(line + 192); __attribute__((fallthrough));
    case 2: hostmem_prefetch(line + 128); __attribute__((fallthrough));
    case 1: hostmem_prefetch(line + 64); __attribute__((fallthrough));
    case 0: hostmem_prefetch(line); break;
    default:
        for (uintptr_t at = first; at <= last; at += 64) hostmem_prefetch((const void *)at);
    }
}

// Line `k` of a row read (its first 8 bytes into `folded`), and with `prefetching` the
// line 64 × k bytes into the row ahead asked for right after (never a fault, even past
// the table's end).
#define GATHER_LINE(k)                                                                                         \
    do {                                                                                                       \
        uint64_t word;                                                                                         \
        __builtin_memcpy(&word, (const void *)(line + 64 * (k)), 8);                                           \
        folded ^= word;                                                                                        \
        if (prefetching) hostmem_prefetch(ahead + 64 * (k));                                                   \
    } while (0)

/// Every line of a row read once, straight-line for rows of up to eight lines (a loop per
/// line costs more instructions than the loads, and fewer lines then fit the CPU's
/// window: the embedding kernel, two adds per line, outran a looped probe by 30%).
__attribute__((always_inline)) static inline uint64_t gather_row(const unsigned char *row, long bytes,
                                                                  const unsigned char *ahead, const int prefetching) {
    uintptr_t line = (uintptr_t)row & ~(uintptr_t)63, last = ((uintptr_t)row + (uintptr_t)bytes - 1) & ~(uintptr_t)63;
    uint64_t folded = 0;
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

uint64_t hostmem_gather_rows(const void *table, long row_bytes, const int *indices, long count, long prefetch) {
    const unsigned char *base = table;
    uint64_t folded = 0;
    long p = 0;
    if (prefetch > 0)
        for (; p + prefetch < count; p++)
            folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base + (long)indices[p + prefetch] * row_bytes, 1);
    for (; p < count; p++) folded ^= gather_row(base + (long)indices[p] * row_bytes, row_bytes, base, 0);
    return folded;
}

#if defined(__x86_64__)
#include <immintrin.h>

int hostmem_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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

// ---- Bag sums: one definition, compiled for each vector width ----

// Loads of one vector of fp32 values, or of 8-bit codes widened to fp32.
__attribute__((target("avx512f")))
static inline __m512 load_f32_512(const unsigned char *at) { return _mm512_loadu_ps((const float *)at); }
__attribute__((target("avx512f")))
static inline __m512 load_u8_512(const unsigned char *at) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)at)));
}
__attribute__((target("avx2,fma")))
static inline __m256 load_f32_256(const unsigned char *at) { return _mm256_loadu_ps((const float *)at); }
__attribute__((target("avx2,fma")))
static inline __m256 load_u8_256(const unsigned char *at) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)at)));
}

// The lookups of bag `b` for one column block: `body` runs for each with `row` (its
// address), `ahead` (with the per-lookup prefetch, the address of the row `prefetch`
// lookups later, else `row`; an 8-bit row's only in the first block) and `weight`.
#define FOR_EACH_LOOKUP(body)                                                                                  \
    do {                                                                                                       \
        for (long p = first; p < last; p++) {                                                                  \
            const unsigned char *row = row_address(table, indices[p], stride, cached ? cache : 0);             \
            const unsigned char *ahead = row;                                                                  \
            if (streamed && (!int8 || block == 0) && p + prefetch < stream_end)                                \
                ahead = row_address(table, indices[p + prefetch], stride, cached ? cache : 0);                 \
            float weight = weighted ? weights[p] : 1.0f;                                                       \
            body                                                                                               \
        }                                                                                                      \
    } while (0)

// Adds the first `count` of the block's vectors (loaded by `load` from `at`, `step` bytes
// apart) to `sum`: `scale` × each with `fma`, or plain (`scale` unused) when `fma` is 0.
// With `prefetching`, the line of `ahead` that each cache line of the block starts at is
// prefetched right after that line's load, so requests go out evenly through the loop
// rather than in a cluster per lookup (fp32 4 M × 128, uniform, Zen 3, one pass, one
// process: 13.2 → 15.3 M lookups/s). The loop is unrolled in full and bounded by the
// constant `max_vectors`, so `sum` is indexed by constants only and stays in registers
// (one loop left rolled put all 16 accumulators on the stack).
#define UNROLLED _Pragma("clang loop unroll(full)")
#define ADD_VECTORS(count, fma, fmadd, add, load, scale, at, step, prefetching, ahead)                         \
    do {                                                                                                       \
        UNROLLED for (int k = 0; k < 16; k++) {                                                                \
            if (k < max_vectors && k < (count)) {                                                              \
                sum[k] = (fma) ? fmadd(scale, load((at) + (step) * k), sum[k]) : add(sum[k], load((at) + (step) * k));\
                if ((prefetching) && (step) * k % 64 == 0) hostmem_prefetch((ahead) + (step) * k);             \
            }                                                                                                  \
        }                                                                                                      \
    } while (0)

// Bag `b`'s sums for the block at column `block`, its first `count` vectors, stored to
// `destination`. Called with a constant `count` for the usual block sizes (blocks are cut
// so that the last is one of them), so that each size gets its own loop and registers:
// with one loop for every size, the accumulators of all of them were live at once and an
// 8-bit block spilled.
#define SUM_BLOCK(count, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8)                         \
    do {                                                                                                       \
        vec sum[16];                                                                                           \
        UNROLLED for (int k = 0; k < 16; k++) if (k < max_vectors && k < (count)) sum[k] = zero();             \
        float bias_sum = 0;                                                                                    \
        if (int8) {                                                                                            \
            FOR_EACH_LOOKUP({                                                                                  \
                /* An 8-bit row is a few lines, not on line boundaries: all at once. */                        \
                if (streamed && block == 0) prefetch_row_l2(ahead, stride);                                    \
                float scale;                                                                                   \
                float bias;                                                                                    \
                __builtin_memcpy(&scale, row + dim, 4);                                                        \
                __builtin_memcpy(&bias, row + dim + 4, 4);                                                     \
                vec a = set1(weight * scale);                                                                  \
                bias_sum += weight * bias;                                                                     \
                ADD_VECTORS(count, 1, fmadd, add, load_u8, a, row + block, lanes, 0, row);                     \
            });                                                                                                \
        } else {                                                                                               \
            FOR_EACH_LOOKUP({                                                                                  \
                vec w = set1(weight);                                                                          \
                ADD_VECTORS(count, weighted, fmadd, add, load_f32, w, row + 4 * block, 4 * (lanes), streamed,  \
                            ahead + 4 * block);                                                                \
            });                                                                                                \
        }                                                                                                      \
        vec c = set1(bias_sum);                                                                                \
        UNROLLED for (int k = 0; k < 16; k++)                                                                  \
            if (k < max_vectors && k < (count)) store(destination + block + (lanes) * k, int8 ? add(sum[k], c) : sum[k]);\
    } while (0)

// Calls `body` with each combination of the five flags as constants, so that the
// compiler makes a loop for each without the others' tests.
#define SPECIALIZED_STREAM(body, streamed, ...)                                                                \
    do {                                                                                                       \
        if (streamed) body(__VA_ARGS__, 1); else body(__VA_ARGS__, 0);                                         \
    } while (0)
#define SPECIALIZED_CACHE(body, int8, cached, deduped, streamed, ...)                                          \
    do {                                                                                                       \
        if (cached) {                                                                                          \
            if (deduped) SPECIALIZED_STREAM(body, 0, __VA_ARGS__, int8, 1, 1);                                 \
            else SPECIALIZED_STREAM(body, streamed, __VA_ARGS__, int8, 1, 0);                                  \
        } else {                                                                                               \
            if (deduped) SPECIALIZED_STREAM(body, 0, __VA_ARGS__, int8, 0, 1);                                 \
            else SPECIALIZED_STREAM(body, streamed, __VA_ARGS__, int8, 0, 0);                                  \
        }                                                                                                      \
    } while (0)
#define SPECIALIZED(body, weighted, int8, cached, deduped, streamed, ...)                                      \
    do {                                                                                                       \
        if (weighted) {                                                                                        \
            if (int8) SPECIALIZED_CACHE(body, 1, cached, deduped, streamed, __VA_ARGS__, 1);                   \
            else SPECIALIZED_CACHE(body, 0, cached, deduped, streamed, __VA_ARGS__, 1);                        \
        } else {                                                                                               \
            if (int8) SPECIALIZED_CACHE(body, 1, cached, deduped, streamed, __VA_ARGS__, 0);                   \
            else SPECIALIZED_CACHE(body, 0, cached, deduped, streamed, __VA_ARGS__, 0);                        \
        }                                                                                                      \
    } while (0)

// A block is up to 16 vectors of columns, summed in registers over the bag's rows and
// stored once: AVX-512 has 32 registers, so 16 always fit (256 columns); AVX2 has 16,
// so an unweighted fp32 block takes all 16 (128 columns; each add reads its row from
// memory and needs no other register), a weighted one 14 (beside the weight), an 8-bit
// one 13, or 12 weighted (beside the scale, the widened codes and the bias sum; one
// more spilled). Blocks are cut so the last is a size with its own loop: 128 8-bit
// columns are 12 and 4 vectors, not 13 and 3. Few passes over a row matter more
// than anything else here: the loop keeps asking for rows instead of rereading a bag
// from L1. On Zen 3, with per-lookup prefetch, fp32 4 M × 128 uniform went 8.9 → 15.3 M
// lookups/s with one pass instead of two of 64 columns; int8 26.0 → 28.8 M with passes
// of 96 and 32 columns instead of two of 64 (one process, alternating). An 8-bit row
// adds weight × scale × code to each column and weight × bias to a scalar that is added
// to every column at the end. The fp32 and 8-bit loops are separate so that neither
// carries the other's branch.
#define BAG_SUM(name, isa, vec, lanes, registers, zero, set1, fmadd, add, store, load_f32, load_u8)            \
    __attribute__((target(isa), always_inline)) static inline void name##_body(                                \
        const unsigned char *table, long dim, const int *indices, long n_indices, const int *offsets,          \
        long n_offsets, long first_bag, long end_bag, const float *weights, float *out, long prefetch,         \
        const hostmem_row_cache *cache, const hostmem_distinct_rows *distinct, const int weighted,             \
        const int int8, const int cached, const int deduped, const int streamed) {                             \
        const int max_vectors = (registers) == 32 || (!int8 && !weighted) ? 16 : !int8 ? 14 : weighted ? 12 : 13;\
        long stride = int8 ? dim + 8 : dim * 4;                                                                \
        /* What is prefetched: the lookups' rows, or the distinct rows in first-use order. */                  \
        const int *stream = deduped ? distinct->rows : indices;                                                \
        long stream_end = deduped ? distinct->count : bag_end(offsets, n_offsets, n_indices, end_bag - 1);     \
        const uint8_t *first_use = deduped ? distinct->first_use - distinct->first_position : 0;               \
        long prefetched = deduped ? 0 : offsets[first_bag]; /* the next entry of `stream` to prefetch */       \
        long seen = 0; /* first uses up to the end of this bag */                                              \
        for (long b = first_bag; b < end_bag; b++) {                                                           \
            long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);                         \
            float *destination = out + b * dim;                                                                \
            if (prefetch > 0 && !streamed) { /* up to `prefetch` past this bag, before summing it */           \
                long upto = last + prefetch;                                                                   \
                if (deduped) {                                                                                 \
                    for (long p = first; p < last; p++) seen += first_use[p];                                  \
                    upto = seen + prefetch;                                                                    \
                }                                                                                              \
                for (; prefetched < upto && prefetched < stream_end; prefetched++)                             \
                    prefetch_row_l2(row_address(table, stream[prefetched], stride, cached ? cache : 0), stride);\
            }                                                                                                  \
            for (long block = 0, vectors; block < dim; block += vectors * (lanes)) {                           \
                long remaining = (dim - block) / (lanes);                                                      \
                vectors = remaining < max_vectors ? remaining : max_vectors;                                   \
                /* A block of 16 vectors at most 13 at a time: 12 and 4, whose sizes have loops below. */      \
                for (long tail = remaining - vectors; tail > 0 && tail < 8 && (tail & (tail - 1)); tail++) vectors--;\
                if (vectors == max_vectors)                                                                    \
                    SUM_BLOCK(max_vectors, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);      \
                else if (vectors == 12)                                                                        \
                    SUM_BLOCK(12, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);               \
                else if (vectors == 8)                                                                         \
                    SUM_BLOCK(8, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);                \
                else if (vectors == 4)                                                                         \
                    SUM_BLOCK(4, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);                \
                else if (vectors == 2)                                                                         \
                    SUM_BLOCK(2, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);                \
                else                                                                                           \
                    SUM_BLOCK(vectors, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8);          \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    __attribute__((target(isa)))                                                                               \
    void name(const void *table, long dim, int int8, const int *indices, long n_indices, const int *offsets,   \
              long n_offsets, long first_bag, long end_bag, const float *weights, float *out, long prefetch,   \
              int per_lookup, const hostmem_row_cache *cache, const hostmem_distinct_rows *distinct) {         \
        SPECIALIZED(name##_body, weights != 0, int8, cache != 0, distinct != 0, per_lookup && prefetch > 0,    \
                    table, dim, indices, n_indices, offsets, n_offsets, first_bag, end_bag, weights, out,      \
                    prefetch, cache, distinct);                                                                \
    }

BAG_SUM(hostmem_bag_sum_avx512, "avx512f", __m512, 16, 32, _mm512_setzero_ps, _mm512_set1_ps, _mm512_fmadd_ps,
        _mm512_add_ps, _mm512_storeu_ps, load_f32_512, load_u8_512)
BAG_SUM(hostmem_bag_sum_avx2, "avx2,fma", __m256, 8, 16, _mm256_setzero_ps, _mm256_set1_ps, _mm256_fmadd_ps,
        _mm256_add_ps, _mm256_storeu_ps, load_f32_256, load_u8_256)

#else
int hostmem_has_avx2_fma(void) { return 0; }
int hostmem_has_avx512(void) { return 0; }
void hostmem_bag_sum_avx512(const void *table, long dim, int int8, const int *indices, long n_indices,
                            const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                            float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                            const hostmem_distinct_rows *distinct) {}
void hostmem_bag_sum_avx2(const void *table, long dim, int int8, const int *indices, long n_indices,
                          const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                          float *out, long prefetch, int per_lookup, const hostmem_row_cache *cache,
                          const hostmem_distinct_rows *distinct) {}
#endif
