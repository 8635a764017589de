// Embedding-bag kernels in C with AVX-512 or AVX2 + FMA, chosen at run time by the
// Swift side (the rest of hostmem is built for the x86-64 baseline).
//
// Bag kernels (fp32 or 8-bit rows): each bag is summed a block of columns at a time in
// registers (AVX-512: 128 columns in eight 512-bit accumulators, so a 128-wide row is one
// pass; AVX2: 64 columns in eight 256-bit ones), and written once. Each row `prefetch`
// lookups ahead is prefetched into L2 (every cache line, once; with several column passes
// the prefetches are spread over them). Prefetching into L2 rather than L1 matters: measured on Zen 4,
// the L1 has few miss buffers and T0 prefetches stall on them, while L2 ones keep far
// more lines in flight (fp32 4 M × 128 uniform: 11 → 17 M lookups/s).
//
// Sorted kernels: the (row << 32 | position) keys sorted by row; each distinct row is
// read once (prefetched `prefetch` distinct rows ahead), dequantized once when 8-bit,
// and added to every bag that holds it.
#include "hostmem_shim.h"

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

/// Every cache line of a row, once each (an int8 row need not start on a line).
static inline void prefetch_row_l2(const unsigned char *row, long bytes) {
    uintptr_t line = (uintptr_t)row & ~(uintptr_t)63, end = (uintptr_t)row + (uintptr_t)bytes;
    for (; line < end; line += 64) hostmem_prefetch((const void *)line);
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

/// The row of a sorted (row << 32 | position) key.
static inline long key_row(uint64_t key) { return (long)(key >> 32); }

/// The index of the first key after the run of keys with the row of keys[at].
static inline long run_end(const uint64_t *keys, long at, long count) {
    uint64_t row = keys[at] >> 32;
    while (at < count && (keys[at] >> 32) == row) at++;
    return at;
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
// address) and `weight`; the row `prefetch` lookups ahead is prefetched on this block's
// turn (each row once over the passes).
#define FOR_EACH_LOOKUP(body)                                                                                  \
    do {                                                                                                       \
        long phase = 0; /* (p - first) mod passes, without a division per lookup */                            \
        for (long p = first; p < last; p++, phase = phase + 1 == passes ? 0 : phase + 1) {                     \
            if (prefetch > 0 && phase == block / block_width && p + prefetch < last_index)                     \
                prefetch_row_l2(row_address(table, indices[p + prefetch], stride, cache), stride);             \
            const unsigned char *row = row_address(table, indices[p], stride, cache);                          \
            float weight = weights ? weights[p] : 1.0f;                                                        \
            body                                                                                               \
        }                                                                                                      \
    } while (0)

// Adds `scale` × each of the block's vectors (loaded by `load` from `at`, `step` bytes
// apart) to `sum`. Both loops run a constant count, so the compiler unrolls them and
// keeps `sum` in registers (a variable count puts it on the stack).
#define ADD_VECTORS(fmadd, load, scale, at, step)                                                              \
    do {                                                                                                       \
        if (vectors == 8) {                                                                                    \
            for (int k = 0; k < 8; k++) sum[k] = fmadd(scale, load((at) + (step) * k), sum[k]);                \
        } else {                                                                                               \
            for (int k = 0; k < 8; k++)                                                                        \
                if (k < vectors) sum[k] = fmadd(scale, load((at) + (step) * k), sum[k]);                       \
        }                                                                                                      \
    } while (0)

// A block is eight vectors of columns (AVX-512: 128, AVX2: 64), summed in registers over
// the bag's rows and stored once. An 8-bit row adds weight × scale × code to each column
// and weight × bias to a scalar that is added to every column at the end. The fp32 and
// 8-bit loops are separate so that neither carries the other's branch.
#define BAG_SUM(name, isa, vec, lanes, zero, set1, fmadd, add, store, load_f32, load_u8)                       \
    __attribute__((target(isa)))                                                                               \
    void name(const void *table_base, long dim, int int8, const int *indices, long n_indices,                  \
              const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,          \
              float *out, long prefetch, const hostmem_row_cache *cache) {                                     \
        const unsigned char *table = table_base;                                                               \
        const long block_width = 8 * (lanes);                                                                  \
        long stride = int8 ? dim + 8 : dim * 4;                                                                \
        long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);                                 \
        long passes = (dim + block_width - 1) / block_width;                                                   \
        for (long b = first_bag; b < end_bag; b++) {                                                           \
            long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);                         \
            float *destination = out + b * dim;                                                                \
            for (long block = 0; block < dim; block += block_width) {                                          \
                long width = dim - block < block_width ? dim - block : block_width;                            \
                long vectors = width / (lanes);                                                                \
                vec sum[8];                                                                                    \
                for (int k = 0; k < 8; k++) sum[k] = zero();                                                   \
                float bias_sum = 0;                                                                            \
                if (int8) {                                                                                    \
                    FOR_EACH_LOOKUP({                                                                          \
                        float scale;                                                                           \
                        float bias;                                                                            \
                        __builtin_memcpy(&scale, row + dim, 4);                                                \
                        __builtin_memcpy(&bias, row + dim + 4, 4);                                             \
                        vec a = set1(weight * scale);                                                          \
                        bias_sum += weight * bias;                                                             \
                        ADD_VECTORS(fmadd, load_u8, a, row + block, lanes);                                    \
                    });                                                                                        \
                } else {                                                                                       \
                    FOR_EACH_LOOKUP({                                                                          \
                        vec w = set1(weight);                                                                  \
                        ADD_VECTORS(fmadd, load_f32, w, row + 4 * block, 4 * (lanes));                         \
                    });                                                                                        \
                }                                                                                              \
                vec c = set1(bias_sum);                                                                        \
                for (int k = 0; k < 8; k++)                                                                    \
                    if (k < vectors) store(destination + block + (lanes) * k, add(sum[k], c));                 \
            }                                                                                                  \
        }                                                                                                      \
    }

BAG_SUM(hostmem_bag_sum_avx512, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_set1_ps, _mm512_fmadd_ps,
        _mm512_add_ps, _mm512_storeu_ps, load_f32_512, load_u8_512)
BAG_SUM(hostmem_bag_sum_avx2, "avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_set1_ps, _mm256_fmadd_ps,
        _mm256_add_ps, _mm256_storeu_ps, load_f32_256, load_u8_256)

// ---- Sorted and deduplicated: one definition, compiled for each vector width ----

#define SORTED_SUM(name, isa, vec, lanes, set1, fmadd, store, load_f32, load_u8)                               \
    __attribute__((target(isa)))                                                                               \
    void name(const void *table_base, long dim, int int8, const uint64_t *keys, long count,                    \
              long first_position, const int *bag_of, const float *weights, float *out, long prefetch,         \
              float *values, const hostmem_row_cache *cache) {                                                 \
        const unsigned char *table = table_base;                                                               \
        long row_bytes = int8 ? dim + 8 : dim * 4;                                                             \
        long cursor = 0; /* the first run not prefetched yet */                                                \
        for (long k = 0; k < prefetch && cursor < count; k++) {                                                \
            const unsigned char *upcoming = row_address(table, key_row(keys[cursor]), row_bytes, cache);       \
            prefetch_row_l2(upcoming, row_bytes);                                                              \
            cursor = run_end(keys, cursor, count);                                                             \
        }                                                                                                      \
        for (long index = 0; index < count;) {                                                                 \
            if (prefetch > 0 && cursor < count) {                                                              \
                const unsigned char *upcoming = row_address(table, key_row(keys[cursor]), row_bytes, cache);   \
                prefetch_row_l2(upcoming, row_bytes);                                                          \
                cursor = run_end(keys, cursor, count);                                                         \
            }                                                                                                  \
            const unsigned char *row = row_address(table, key_row(keys[index]), row_bytes, cache);             \
            const float *source = (const float *)row;                                                          \
            if (int8) { /* values = code × scale + bias */                                                     \
                float scale;                                                                                   \
                float bias;                                                                                    \
                __builtin_memcpy(&scale, row + dim, 4);                                                        \
                __builtin_memcpy(&bias, row + dim + 4, 4);                                                     \
                vec a = set1(scale);                                                                           \
                vec c = set1(bias);                                                                            \
                for (long column = 0; column < dim; column += (lanes))                                         \
                    store(values + column, fmadd(a, load_u8(row + column), c));                                \
                source = values;                                                                               \
            }                                                                                                  \
            long next = run_end(keys, index, count);                                                           \
            for (long entry = index; entry < next; entry++) {                                                  \
                long position = (long)(keys[entry] & 0xFFFFFFFFu);                                             \
                float *destination = out + (long)bag_of[position - first_position] * dim;                      \
                vec w = set1(weights ? weights[position] : 1.0f);                                              \
                for (long column = 0; column < dim; column += (lanes))                                         \
                    store(destination + column, fmadd(w, load_f32((const unsigned char *)(source + column)),   \
                                                      load_f32((const unsigned char *)(destination + column))));\
            }                                                                                                  \
            index = next;                                                                                      \
        }                                                                                                      \
    }

SORTED_SUM(hostmem_sorted_sum_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps,
           load_f32_512, load_u8_512)
SORTED_SUM(hostmem_sorted_sum_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps,
           load_f32_256, load_u8_256)

#else
int hostmem_has_avx2_fma(void) { return 0; }
int hostmem_has_avx512(void) { return 0; }
void hostmem_bag_sum_avx512(const void *table, long dim, int int8, const int *indices, long n_indices,
                            const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                            float *out, long prefetch, const hostmem_row_cache *cache) {}
void hostmem_bag_sum_avx2(const void *table, long dim, int int8, const int *indices, long n_indices,
                          const int *offsets, long n_offsets, long first_bag, long end_bag, const float *weights,
                          float *out, long prefetch, const hostmem_row_cache *cache) {}
void hostmem_sorted_sum_avx512(const void *table, long dim, int int8, const uint64_t *keys, long count,
                               long first_position, const int *bag_of, const float *weights, float *out,
                               long prefetch, float *values, const hostmem_row_cache *cache) {}
void hostmem_sorted_sum_avx2(const void *table, long dim, int int8, const uint64_t *keys, long count,
                             long first_position, const int *bag_of, const float *weights, float *out,
                             long prefetch, float *values, const hostmem_row_cache *cache) {}
#endif
