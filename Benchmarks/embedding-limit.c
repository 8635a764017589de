// An independent embedding-bag loop: the plainest honest code that sums random rows of a
// table, with a software prefetch distance swept, as the machine's limit for
// `hostmem embed` to be held against (Benchmarks/compare-embedding-limit.py). It shares
// no code with hostmem: its own table, its own loop, the compiler's own vectorisation.
//
//   cc -O3 -march=native -pthread -o embedding-limit Benchmarks/embedding-limit.c
//   ./embedding-limit --indices I.npy --rows 4194304 --dim 128 --dtype fp32|int8
//                     --threads N --batch 2048 --pooling 32 --seconds 1
//
// The table: rows × dim fp32 values in [-1, 1), or the same quantized 8-bit row-wise
// (dim codes, then a fp32 scale and bias per row, FBGEMM's layout), on memory the threads
// first touch in parallel. Each batch of `batch` bags of `pooling` indices is split by
// bags among the threads, as hostmem splits it; each bag's rows are summed (int8:
// scale × code + bias) into its output row. For each distance d in 0 2 4 8 16 32 64 128,
// every lookup first asks for each line of the row d lookups after it
// (__builtin_prefetch); one warm-up batch, then batches for `seconds`, each thread on
// through its own shares without waiting for the others (a bag API returns a whole batch,
// so hostmem's threads meet once per batch: this loop has the easier job). Prints one
// JSON line: lookups per second (all threads' lookups ÷ time) at each distance and the best.
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static long rows = 4194304, dim = 128, batch = 2048, pooling = 32, threads = 1;
static double seconds = 1.0;
static int int8 = 0;
static unsigned char *table;
static long stride;
static int32_t *indices;
static long index_count;
static float *output;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t mix(uint64_t x) {  // splitmix64's finaliser
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Indices from a .npy of int32 or int64 (version 1 or 2 header), narrowed to int32.
static void read_indices(const char *path) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror(path); exit(2); }
    unsigned char magic[10];
    if (fread(magic, 1, 10, file) != 10 || memcmp(magic, "\x93NUMPY", 6) != 0) { fprintf(stderr, "%s: not a .npy\n", path); exit(2); }
    long header = magic[8] | (magic[9] << 8);
    long skip = 10;
    if (magic[6] >= 2) {
        unsigned char more[2];
        if (fread(more, 1, 2, file) != 2) exit(2);
        header |= (long)more[0] << 16 | (long)more[1] << 24;
        skip = 12;
    }
    char *text = calloc(1, header + 1);
    if (fread(text, 1, header, file) != (size_t)header) exit(2);
    int wide = strstr(text, "<i8") != NULL;
    if (!wide && !strstr(text, "<i4")) { fprintf(stderr, "%s: indices must be int32 or int64\n", path); exit(2); }
    fseek(file, 0, SEEK_END);
    long bytes = ftell(file) - skip - header;
    fseek(file, skip + header, SEEK_SET);
    index_count = bytes / (wide ? 8 : 4);
    indices = malloc(index_count * 4);
    for (long i = 0; i < index_count; i++) {
        int64_t value = 0;
        if (fread(&value, wide ? 8 : 4, 1, file) != 1) exit(2);
        if (value < 0 || value >= rows) { fprintf(stderr, "index %ld out of range\n", (long)value); exit(2); }
        indices[i] = (int32_t)value;
    }
    fclose(file);
    free(text);
}

struct share { long thread; long first_row, end_row; };

static void *fill(void *argument) {
    struct share *share = argument;
    for (long r = share->first_row; r < share->end_row; r++) {
        unsigned char *row = table + r * stride;
        float values[4096];
        float low = INFINITY, high = -INFINITY;
        for (long c = 0; c < dim; c++) {
            values[c] = (float)(mix(r * dim + c) >> 40) / (float)(1 << 23) - 1;
            low = values[c] < low ? values[c] : low;
            high = values[c] > high ? values[c] : high;
        }
        if (!int8) {
            memcpy(row, values, dim * 4);
        } else {
            float scale = (high - low) / 255, bias = low;
            for (long c = 0; c < dim; c++) row[c] = (unsigned char)lrintf(scale > 0 ? (values[c] - bias) / scale : 0);
            memcpy(row + dim, &scale, 4);
            memcpy(row + dim + 4, &bias, 4);
        }
    }
    return NULL;
}

static long distance;
static _Atomic long lookups_done;
static pthread_barrier_t start_line;
static volatile int stop;

// Bags [first, end) of one batch, `D` values per row (a multiple of 16): the sums held in
// D / 16 vectors of 16 floats (GCC's vector extension: one AVX-512 register each, two
// AVX2 ones), the loops unrolled so they stay in registers, each row read once.
typedef float floats16 __attribute__((vector_size(64)));
typedef unsigned char codes16 __attribute__((vector_size(16)));
typedef float floats16_unaligned __attribute__((vector_size(64), aligned(4)));
typedef unsigned char codes16_unaligned __attribute__((vector_size(16), aligned(1)));

__attribute__((always_inline)) static inline void sum_bags(const int32_t *lookups, long first, long end, const long D) {
    long lines = (stride + 63) / 64;
    for (long bag = first; bag < end; bag++) {
        floats16 sum[D / 16];
#pragma GCC unroll 16
        for (long v = 0; v < D / 16; v++) sum[v] = (floats16){0};
        for (long k = bag * pooling; k < (bag + 1) * pooling; k++) {
            if (distance && k + distance < end * pooling) {
                const unsigned char *ahead = table + (long)lookups[k + distance] * stride;
                for (long line = 0; line < lines; line++) __builtin_prefetch(ahead + 64 * line);
            }
            const unsigned char *row = table + (long)lookups[k] * stride;
            if (!int8) {
#pragma GCC unroll 16
                for (long v = 0; v < D / 16; v++) sum[v] += *(const floats16_unaligned *)(row + 64 * v);
            } else {
                float scale, bias;
                memcpy(&scale, row + D, 4);
                memcpy(&bias, row + D + 4, 4);
#pragma GCC unroll 16
                for (long v = 0; v < D / 16; v++)
                    sum[v] += scale * __builtin_convertvector(*(const codes16_unaligned *)(row + 16 * v), floats16) + bias;
            }
        }
        memcpy(output + bag * D, sum, D * 4);
    }
}

// Any other dimension: plain scalar loops the compiler vectorises as it can.
static void sum_bags_any(const int32_t *lookups, long first, long end) {
    long lines = (stride + 63) / 64;
    float sum[4096];
    for (long bag = first; bag < end; bag++) {
        for (long c = 0; c < dim; c++) sum[c] = 0;
        for (long k = bag * pooling; k < (bag + 1) * pooling; k++) {
            if (distance && k + distance < end * pooling) {
                const unsigned char *ahead = table + (long)lookups[k + distance] * stride;
                for (long line = 0; line < lines; line++) __builtin_prefetch(ahead + 64 * line);
            }
            const unsigned char *row = table + (long)lookups[k] * stride;
            float scale = 1, bias = 0;
            if (int8) {
                memcpy(&scale, row + dim, 4);
                memcpy(&bias, row + dim + 4, 4);
                for (long c = 0; c < dim; c++) sum[c] += scale * row[c] + bias;
            } else {
                for (long c = 0; c < dim; c++) sum[c] += ((const float *)row)[c];
            }
        }
        memcpy(output + bag * dim, sum, dim * 4);
    }
}

// One thread's share of batch `b`: bags [first, end) of it.
static void run_share(long b, long first, long end) {
    const int32_t *lookups = indices + (b * batch * pooling) % (index_count - index_count % (batch * pooling));
    switch (dim) {
    case 32: sum_bags(lookups, first, end, 32); break;
    case 64: sum_bags(lookups, first, end, 64); break;
    case 128: sum_bags(lookups, first, end, 128); break;
    case 256: sum_bags(lookups, first, end, 256); break;
    default: sum_bags_any(lookups, first, end);
    }
}

static void *worker(void *argument) {
    long thread = (long)argument;
    long first = batch * thread / threads, end = batch * (thread + 1) / threads;
    run_share(0, first, end);  // warm-up
    pthread_barrier_wait(&start_line);
    long b = 1, done = 0;
    while (!stop) {
        run_share(b++, first, end);
        done += (end - first) * pooling;
    }
    atomic_fetch_add(&lookups_done, done);
    return NULL;
}

static double measure(long d) {
    distance = d;
    stop = 0;
    atomic_store(&lookups_done, 0);
    pthread_barrier_init(&start_line, NULL, threads + 1);
    pthread_t ids[256];
    for (long t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, (void *)t);
    pthread_barrier_wait(&start_line);
    double begun = now();
    while (now() - begun < seconds) {
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
    }
    stop = 1;
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    double elapsed = now() - begun;
    pthread_barrier_destroy(&start_line);
    return atomic_load(&lookups_done) / elapsed;  // every thread's lookups (a slower thread is not counted as fast as the fastest)
}

int main(int argc, char **argv) {
    const char *index_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--indices")) index_path = argv[i + 1];
        else if (!strcmp(argv[i], "--rows")) rows = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dim")) dim = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--dtype")) int8 = !strcmp(argv[i + 1], "int8");
        else if (!strcmp(argv[i], "--threads")) threads = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--pooling")) pooling = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (!index_path || dim > 4096 || threads < 1 || threads > 256) { fprintf(stderr, "usage: see the file's head\n"); return 2; }
    read_indices(index_path);
    if (index_count < batch * pooling) { fprintf(stderr, "fewer indices than one batch\n"); return 2; }
    stride = int8 ? dim + 8 : dim * 4;
    // 2 MiB-aligned and advised, so the whole table can sit on transparent huge pages, as
    // hostmem's table does (a 4 KiB-page table costs a page walk per random row).
    long bytes = (rows * stride + (2l << 20) - 1) & ~((2l << 20) - 1);
    unsigned char *mapped = mmap(NULL, bytes + (2l << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) { perror("mmap"); return 1; }
    table = (unsigned char *)(((uintptr_t)mapped + (2l << 20) - 1) & ~(uintptr_t)((2l << 20) - 1));
    madvise(table, bytes, MADV_HUGEPAGE);
    output = aligned_alloc(64, batch * dim * 4);
    struct share shares[256];
    pthread_t ids[256];
    for (long t = 0; t < threads; t++) {
        shares[t] = (struct share){t, rows * t / threads, rows * (t + 1) / threads};
        pthread_create(&ids[t], NULL, fill, &shares[t]);
    }
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    long distances[] = {0, 2, 4, 8, 16, 32, 64, 128};
    double best = 0;
    long best_distance = 0;
    printf("{\"dtype\": \"%s\", \"threads\": %ld, \"rows\": %ld, \"dim\": %ld, \"rates\": {", int8 ? "int8" : "fp32", threads, rows, dim);
    for (int i = 0; i < 8; i++) {
        double rate = measure(distances[i]);
        printf("%s\"%ld\": %.0f", i ? ", " : "", distances[i], rate);
        if (rate > best) best = rate, best_distance = distances[i];
    }
    double check = 0;
    for (long i = 0; i < batch * dim; i++) check += output[i];
    printf("}, \"best\": %.0f, \"bestDistance\": %ld, \"checksum\": %.3f}\n", best, best_distance, check);
    return 0;
}
