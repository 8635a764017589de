// Embedding-bag kernels with AVX2 + FMA, chosen at run time by the Swift side when the
// CPU has them (the rest of hostmem is built for the x86-64 baseline). Each bag is summed
// 64 columns at a time in eight 256-bit accumulators; each row `prefetch` lookups ahead is
// prefetched (every cache line) once, the prefetches spread over the column passes so the
// memory system has requests in flight the whole time.
#include "hostmem_shim.h"

#if defined(__x86_64__)
#include <immintrin.h>

int hostmem_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static inline long bag_end(const int *offsets, long n_offsets, long n_indices, long b) {
    return b + 1 < n_offsets ? offsets[b + 1] : n_indices;
}

__attribute__((target("avx2,fma")))
static inline void prefetch_row(const unsigned char *row, long bytes) {
    for (long offset = 0; offset < bytes; offset += 64) _mm_prefetch((const char *)(row + offset), _MM_HINT_T0);
}

__attribute__((target("avx2,fma")))
void hostmem_bag_sum_f32_avx2(const float *table, long dim, const int *indices, long n_indices,
                              const int *offsets, long n_offsets, long first_bag, long end_bag,
                              const float *weights, float *out, long prefetch) {
    long last_index = bag_end(offsets, n_offsets, n_indices, end_bag - 1);
    long passes = (dim + 63) / 64;
    for (long b = first_bag; b < end_bag; b++) {
        long first = offsets[b], last = bag_end(offsets, n_offsets, n_indices, b);
        float *destination = out + b * dim;
        for (long block = 0; block < dim; block += 64) {
            long width = dim - block < 64 ? dim - block : 64;  // a multiple of 8
            __m256 sum[8];
            for (int k = 0; k < 8; k++) sum[k] = _mm256_setzero_ps();
            for (long p = first; p < last; p++) {
                if (prefetch > 0 && (p - first) % passes == block / 64 && p + prefetch < last_index)
                    prefetch_row((const unsigned char *)(table + (long)indices[p + prefetch] * dim), dim * 4);
                const float *row = table + (long)indices[p] * dim + block;
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
void hostmem_bag_sum_u8_avx2(const unsigned char *table, long dim, const int *indices, long n_indices,
                             const int *offsets, long n_offsets, long first_bag, long end_bag,
                             const float *weights, float *out, long prefetch) {
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
            for (long p = first; p < last; p++) {
                if (prefetch > 0 && (p - first) % passes == block / 64 && p + prefetch < last_index)
                    prefetch_row(table + (long)indices[p + prefetch] * stride, stride);
                const unsigned char *row = table + (long)indices[p] * stride;
                float scale, bias;
                __builtin_memcpy(&scale, row + dim, 4);
                __builtin_memcpy(&bias, row + dim + 4, 4);
                float weight = weights ? weights[p] : 1.0f;
                __m256 a = _mm256_set1_ps(weight * scale), c = _mm256_set1_ps(weight * bias);
                for (int k = 0; k < width / 8; k++) {
                    __m128i codes = _mm_loadl_epi64((const __m128i *)(row + block + 8 * k));
                    __m256 values = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes));
                    sum[k] = _mm256_add_ps(_mm256_fmadd_ps(a, values, sum[k]), c);
                }
            }
            for (int k = 0; k < width / 8; k++) _mm256_storeu_ps(destination + block + 8 * k, sum[k]);
        }
    }
}
__attribute__((target("avx2,fma")))
void hostmem_axpy_f32_avx2(float *dst, const float *src, float w, long dim) {
    __m256 weight = _mm256_set1_ps(w);
    for (long column = 0; column < dim; column += 8)
        _mm256_storeu_ps(dst + column, _mm256_fmadd_ps(weight, _mm256_loadu_ps(src + column), _mm256_loadu_ps(dst + column)));
}

__attribute__((target("avx2,fma")))
void hostmem_dequantize_u8_avx2(float *dst, const unsigned char *row, long dim) {
    float scale, bias;
    __builtin_memcpy(&scale, row + dim, 4);
    __builtin_memcpy(&bias, row + dim + 4, 4);
    __m256 a = _mm256_set1_ps(scale), c = _mm256_set1_ps(bias);
    for (long column = 0; column < dim; column += 8) {
        __m128i codes = _mm_loadl_epi64((const __m128i *)(row + column));
        _mm256_storeu_ps(dst + column, _mm256_fmadd_ps(a, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), c));
    }
}
#else
int hostmem_has_avx2_fma(void) { return 0; }
void hostmem_axpy_f32_avx2(float *dst, const float *src, float w, long dim) {}
void hostmem_dequantize_u8_avx2(float *dst, const unsigned char *row, long dim) {}
void hostmem_bag_sum_f32_avx2(const float *table, long dim, const int *indices, long n_indices,
                              const int *offsets, long n_offsets, long first_bag, long end_bag,
                              const float *weights, float *out, long prefetch) {}
void hostmem_bag_sum_u8_avx2(const unsigned char *table, long dim, const int *indices, long n_indices,
                             const int *offsets, long n_offsets, long first_bag, long end_bag,
                             const float *weights, float *out, long prefetch) {}
#endif
