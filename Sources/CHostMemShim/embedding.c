// Embedding-bag kernels in C with AVX-512 or AVX2 + FMA, chosen at run time by the
// Swift side (the rest of hostmem is built for the x86-64 baseline).
//
// Bag kernels: each bag is summed a block of columns at a time in registers (AVX-512:
// 128 columns in eight 512-bit accumulators, so a 128-wide row is one pass; AVX2: 64
// columns in eight 256-bit ones), and written once. Each row `prefetch` lookups ahead is
// prefetched into L2 (every cache line, once; with several column passes the prefetches
// are spread over them). Prefetching into L2 rather than L1 matters: measured on Zen 4,
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
    for (; line < end; line += 64) __builtin_prefetch((const void *)line, 0, 1);
}

/// The address of `row`: the hot-row cache's copy when it holds the row, else the table's.
static inline const unsigned char *row_address(const unsigned char *table, long row, long row_bytes,
                                               const hostmem_row_cache *cache) {
    if (cache) {
        long probe = (long)(((uint64_t)row * 0x9E3779B97F4A7C15ull) >> 32) & cache->mask;
        for (;;) {
            int32_t key = cache->keys[probe];
            if (key == -1) break;
            if (key == row) return cache->rows + (long)cache->slots[probe] * row_bytes;
            probe = (probe + 1) & cache->mask;
        }
    }
    return table + row * row_bytes;
}

/// The index of the first key after the run of keys with the row of keys[at].
static inline long run_end(const uint64_t *keys, long at, long count) {
    uint64_t row = keys[at] >> 32;
    while (at < count && (keys[at] >> 32) == row) at++;
    return at;
}

// ---- AVX-512 ----

#define SUM8_512(expression)                                                                    \
    do {                                                                                       \
        s0 = expression(0, s0); s1 = expression(1, s1); s2 = expression(2, s2); s3 = expression(3, s3); \
        s4 = expression(4, s4); s5 = expression(5, s5); s6 = expression(6, s6); s7 = expression(7, s7); \
    } while (0)

__attribute__((target("avx512f")))
void hostmem_bag_sum_f32_avx512(const void *table_base, long dim, const int *indices, long n_indices,
                                const int *offsets, long n_offsets, long first_bag, long end_bag,
                                const float *weights, float *out, long prefetch,
                                const hostmem_row_cache *cache) {
    const unsigned char *table = table_base;
    long stride = dim * 4;
    long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);
    long passes = (dim + 127) / 128;
    for (long b = first_bag; b < end_bag; b++) {
        long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);
        float *destination = out + b * dim;
        for (long block = 0; block < dim; block += 128) {
            long width = dim - block < 128 ? dim - block : 128;  // a multiple of 16
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            long phase = 0;  // (p - first) mod passes, without a division per lookup
            for (long p = first; p < last; p++, phase = phase + 1 == passes ? 0 : phase + 1) {
                if (prefetch > 0 && phase == block / 128 && p + prefetch < last_index)
                    prefetch_row_l2(row_address(table, indices[p + prefetch], stride, cache), stride);
                const float *row = (const float *)row_address(table, indices[p], stride, cache) + block;
                __m512 w = _mm512_set1_ps(weights ? weights[p] : 1.0f);
                if (width == 128) {
#define FMA_F32(k, sum) _mm512_fmadd_ps(w, _mm512_loadu_ps(row + 16 * (k)), sum)
                    SUM8_512(FMA_F32);
                } else {
                    // The tail block: fewer than eight vectors, the rest masked off.
#define FMA_F32_TAIL(k, sum) (16 * (k) < width ? FMA_F32(k, sum) : sum)
                    SUM8_512(FMA_F32_TAIL);
                }
            }
            __m512 sums[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
            for (long k = 0; k < width / 16; k++) _mm512_storeu_ps(destination + block + 16 * k, sums[k]);
        }
    }
}

__attribute__((target("avx512f")))
void hostmem_bag_sum_u8_avx512(const void *table_base, long dim, const int *indices, long n_indices,
                               const int *offsets, long n_offsets, long first_bag, long end_bag,
                               const float *weights, float *out, long prefetch,
                               const hostmem_row_cache *cache) {
    const unsigned char *table = table_base;
    long stride = dim + 8;
    long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);
    long passes = (dim + 127) / 128;
    for (long b = first_bag; b < end_bag; b++) {
        long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);
        float *destination = out + b * dim;
        for (long block = 0; block < dim; block += 128) {
            long width = dim - block < 128 ? dim - block : 128;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            float bias_sum = 0;  // Σ weight × bias, added to every column at the end
            long phase = 0;  // (p - first) mod passes, without a division per lookup
            for (long p = first; p < last; p++, phase = phase + 1 == passes ? 0 : phase + 1) {
                if (prefetch > 0 && phase == block / 128 && p + prefetch < last_index)
                    prefetch_row_l2(row_address(table, indices[p + prefetch], stride, cache), stride);
                const unsigned char *row = row_address(table, indices[p], stride, cache);
                float scale, bias;
                __builtin_memcpy(&scale, row + dim, 4);
                __builtin_memcpy(&bias, row + dim + 4, 4);
                float weight = weights ? weights[p] : 1.0f;
                __m512 a = _mm512_set1_ps(weight * scale);
                bias_sum += weight * bias;
                row += block;
#define FMA_U8(k, sum) _mm512_fmadd_ps(a, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(row + 16 * (k))))), sum)
                if (width == 128) {
                    SUM8_512(FMA_U8);
                } else {
#define FMA_U8_TAIL(k, sum) (16 * (k) < width ? FMA_U8(k, sum) : sum)
                    SUM8_512(FMA_U8_TAIL);
                }
            }
            __m512 c = _mm512_set1_ps(bias_sum);
            __m512 sums[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
            for (long k = 0; k < width / 16; k++) _mm512_storeu_ps(destination + block + 16 * k, _mm512_add_ps(sums[k], c));
        }
    }
}

// ---- AVX2 + FMA ----

__attribute__((target("avx2,fma")))
void hostmem_bag_sum_f32_avx2(const void *table_base, long dim, const int *indices, long n_indices,
                              const int *offsets, long n_offsets, long first_bag, long end_bag,
                              const float *weights, float *out, long prefetch,
                                const hostmem_row_cache *cache) {
    const unsigned char *table = table_base;
    long stride = dim * 4;
    long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);
    long passes = (dim + 63) / 64;
    for (long b = first_bag; b < end_bag; b++) {
        long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);
        float *destination = out + b * dim;
        for (long block = 0; block < dim; block += 64) {
            long width = dim - block < 64 ? dim - block : 64;  // a multiple of 8
            __m256 sum[8];
            for (int k = 0; k < 8; k++) sum[k] = _mm256_setzero_ps();
            long phase = 0;  // (p - first) mod passes, without a division per lookup
            for (long p = first; p < last; p++, phase = phase + 1 == passes ? 0 : phase + 1) {
                if (prefetch > 0 && phase == block / 64 && p + prefetch < last_index)
                    prefetch_row_l2(row_address(table, indices[p + prefetch], stride, cache), stride);
                const float *row = (const float *)row_address(table, indices[p], stride, cache) + block;
                __m256 w = _mm256_set1_ps(weights ? weights[p] : 1.0f);
                if (width == 64) {
                    for (int k = 0; k < 8; k++) sum[k] = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + 8 * k), sum[k]);
                } else {
                    for (int k = 0; k < width / 8; k++) sum[k] = _mm256_fmadd_ps(w, _mm256_loadu_ps(row + 8 * k), sum[k]);
                }
            }
            for (int k = 0; k < width / 8; k++) _mm256_storeu_ps(destination + block + 8 * k, sum[k]);
        }
    }
}

__attribute__((target("avx2,fma")))
void hostmem_bag_sum_u8_avx2(const void *table_base, long dim, const int *indices, long n_indices,
                             const int *offsets, long n_offsets, long first_bag, long end_bag,
                             const float *weights, float *out, long prefetch,
                               const hostmem_row_cache *cache) {
    const unsigned char *table = table_base;
    long stride = dim + 8;
    long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);
    long passes = (dim + 63) / 64;
    for (long b = first_bag; b < end_bag; b++) {
        long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);
        float *destination = out + b * dim;
        for (long block = 0; block < dim; block += 64) {
            long width = dim - block < 64 ? dim - block : 64;
            __m256 sum[8];
            for (int k = 0; k < 8; k++) sum[k] = _mm256_setzero_ps();
            float bias_sum = 0;
            long phase = 0;  // (p - first) mod passes, without a division per lookup
            for (long p = first; p < last; p++, phase = phase + 1 == passes ? 0 : phase + 1) {
                if (prefetch > 0 && phase == block / 64 && p + prefetch < last_index)
                    prefetch_row_l2(row_address(table, indices[p + prefetch], stride, cache), stride);
                const unsigned char *row = row_address(table, indices[p], stride, cache);
                float scale, bias;
                __builtin_memcpy(&scale, row + dim, 4);
                __builtin_memcpy(&bias, row + dim + 4, 4);
                float weight = weights ? weights[p] : 1.0f;
                __m256 a = _mm256_set1_ps(weight * scale);
                bias_sum += weight * bias;
                for (int k = 0; k < width / 8; k++) {
                    __m128i codes = _mm_loadl_epi64((const __m128i *)(row + block + 8 * k));
                    sum[k] = _mm256_fmadd_ps(a, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), sum[k]);
                }
            }
            __m256 c = _mm256_set1_ps(bias_sum);
            for (int k = 0; k < width / 8; k++) _mm256_storeu_ps(destination + block + 8 * k, _mm256_add_ps(sum[k], c));
        }
    }
}

// ---- Sorted and deduplicated: one definition, compiled for each vector width ----

// dst[0..<dim] += w × src[0..<dim]; values[0..<dim] = code × scale + bias.
__attribute__((target("avx512f")))
static inline void axpy_512(float *dst, const float *src, float w, long dim) {
    __m512 weight = _mm512_set1_ps(w);
    for (long column = 0; column < dim; column += 16)
        _mm512_storeu_ps(dst + column, _mm512_fmadd_ps(weight, _mm512_loadu_ps(src + column), _mm512_loadu_ps(dst + column)));
}

__attribute__((target("avx512f")))
static inline void dequantize_512(float *values, const unsigned char *row, long dim) {
    float scale, bias;
    __builtin_memcpy(&scale, row + dim, 4);
    __builtin_memcpy(&bias, row + dim + 4, 4);
    __m512 a = _mm512_set1_ps(scale), c = _mm512_set1_ps(bias);
    for (long column = 0; column < dim; column += 16) {
        __m128i codes = _mm_loadu_si128((const __m128i *)(row + column));
        _mm512_storeu_ps(values + column, _mm512_fmadd_ps(a, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(codes)), c));
    }
}

__attribute__((target("avx2,fma")))
static inline void axpy_256(float *dst, const float *src, float w, long dim) {
    __m256 weight = _mm256_set1_ps(w);
    for (long column = 0; column < dim; column += 8)
        _mm256_storeu_ps(dst + column, _mm256_fmadd_ps(weight, _mm256_loadu_ps(src + column), _mm256_loadu_ps(dst + column)));
}

__attribute__((target("avx2,fma")))
static inline void dequantize_256(float *values, const unsigned char *row, long dim) {
    float scale, bias;
    __builtin_memcpy(&scale, row + dim, 4);
    __builtin_memcpy(&bias, row + dim + 4, 4);
    __m256 a = _mm256_set1_ps(scale), c = _mm256_set1_ps(bias);
    for (long column = 0; column < dim; column += 8) {
        __m128i codes = _mm_loadl_epi64((const __m128i *)(row + column));
        _mm256_storeu_ps(values + column, _mm256_fmadd_ps(a, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), c));
    }
}

#define SORTED_SUM(name, target_isa, axpy, dequantize)                                                         \
    __attribute__((target(target_isa)))                                                                        \
    void name(const void *table_base, long dim, int int8, const uint64_t *keys, long count,                   \
              long first_position, const int *bag_of, const float *weights, float *out, long prefetch,         \
              float *values, const hostmem_row_cache *cache) {                                                 \
        const unsigned char *table = table_base;                                                               \
        long row_bytes = int8 ? dim + 8 : dim * 4;                                                             \
        long cursor = 0; /* the first run not prefetched yet */                                                \
        for (long k = 0; k < prefetch && cursor < count; k++) {                                                \
            prefetch_row_l2(row_address(table, (long)(keys[cursor] >> 32), row_bytes, cache), row_bytes);                        \
            cursor = run_end(keys, cursor, count);                                                             \
        }                                                                                                      \
        for (long index = 0; index < count;) {                                                                 \
            if (prefetch > 0 && cursor < count) {                                                              \
                prefetch_row_l2(row_address(table, (long)(keys[cursor] >> 32), row_bytes, cache), row_bytes);                    \
                cursor = run_end(keys, cursor, count);                                                         \
            }                                                                                                  \
            const unsigned char *row = row_address(table, (long)(keys[index] >> 32), row_bytes, cache);                          \
            const float *source = (const float *)row;                                                          \
            if (int8) {                                                                                        \
                dequantize(values, row, dim);                                                                  \
                source = values;                                                                               \
            }                                                                                                  \
            long next = run_end(keys, index, count);                                                           \
            for (long entry = index; entry < next; entry++) {                                                  \
                long position = (long)(keys[entry] & 0xFFFFFFFFu);                                             \
                axpy(out + (long)bag_of[position - first_position] * dim, source,                              \
                     weights ? weights[position] : 1.0f, dim);                                                 \
            }                                                                                                  \
            index = next;                                                                                      \
        }                                                                                                      \
    }

SORTED_SUM(hostmem_sorted_sum_avx512, "avx512f", axpy_512, dequantize_512)
SORTED_SUM(hostmem_sorted_sum_avx2, "avx2,fma", axpy_256, dequantize_256)

#else
int hostmem_has_avx2_fma(void) { return 0; }
int hostmem_has_avx512(void) { return 0; }
#define UNAVAILABLE_BAG_SUM(name)                                                                        \
    void name(const void *table, long dim, const int *indices, long n_indices, const int *offsets,             \
              long n_offsets, long first_bag, long end_bag, const float *weights, float *out, long prefetch,        \
              const hostmem_row_cache *cache) {}
UNAVAILABLE_BAG_SUM(hostmem_bag_sum_f32_avx512)
UNAVAILABLE_BAG_SUM(hostmem_bag_sum_u8_avx512)
UNAVAILABLE_BAG_SUM(hostmem_bag_sum_f32_avx2)
UNAVAILABLE_BAG_SUM(hostmem_bag_sum_u8_avx2)
void hostmem_sorted_sum_avx512(const void *table, long dim, int int8, const uint64_t *keys, long count,
                               long first_position, const int *bag_of, const float *weights, float *out,
                               long prefetch, float *values, const hostmem_row_cache *cache) {}
void hostmem_sorted_sum_avx2(const void *table, long dim, int int8, const uint64_t *keys, long count,
                             long first_position, const int *bag_of, const float *weights, float *out,
                             long prefetch, float *values, const hostmem_row_cache *cache) {}
#endif
