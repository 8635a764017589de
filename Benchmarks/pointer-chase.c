// A plain C pointer chase, the reference for hostmem's DRAM latency.
//
//   cc -O2 -o pointer-chase Benchmarks/pointer-chase.c
//   ./pointer-chase BYTES [REPETITIONS] [CPU]
//
// Same method as `hostmem bench latency`: a 2 MiB-aligned buffer with MADV_HUGEPAGE,
// one random cycle through every 64-byte line (Fisher-Yates order, linked in order),
// the thread bound to one CPU, a warm-up walk, then REPETITIONS timed walks of about
// 20 ms each. Prints ns per load: median and best.
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {  // SplitMix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BYTES [REPETITIONS] [CPU]\n", argv[0]);
        return 2;
    }
    size_t bytes = strtoull(argv[1], NULL, 10);
    int repetitions = argc > 2 ? atoi(argv[2]) : 5;
    int cpu = argc > 3 ? atoi(argv[3]) : 0;
    size_t lines = bytes / 64;
    if (lines < 2 || repetitions < 1 || repetitions > 1000) {
        fprintf(stderr, "pointer-chase: BYTES must be at least 128 and REPETITIONS 1..1000\n");
        return 2;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); return 1; }

    size_t huge = 2u << 20, length = (bytes + huge - 1) / huge * huge;
    char *buffer = aligned_alloc(huge, length);
    uint32_t *order = malloc(lines * sizeof *order);
    if (!buffer || !order) { perror("alloc"); return 1; }
    madvise(buffer, length, MADV_HUGEPAGE);
    for (size_t i = 0; i < lines; i++) order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = (size_t)(((unsigned __int128)next_random() * (i + 1)) >> 64);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < lines; i++)
        *(void **)(buffer + (size_t)order[i] * 64) = buffer + (size_t)order[(i + 1) % lines] * 64;

    void **p = (void **)(buffer + (size_t)order[0] * 64);
    size_t warm = lines < (1u << 20) ? 2 * lines : (1u << 20);
    for (size_t i = 0; i < warm; i++) p = *p;
    // Size a repetition to about 20 ms from a probe.
    uint64_t start = now_ns();
    for (int i = 0; i < 16384; i++) p = *p;
    double per_load = (double)(now_ns() - start) / 16384;
    size_t steps = (size_t)(20e6 / (per_load > 0.1 ? per_load : 0.1));
    if (steps < 16384) steps = 16384;

    double *results = malloc(repetitions * sizeof *results);
    for (int r = 0; r < repetitions; r++) {
        start = now_ns();
        for (size_t i = 0; i < steps; i++) p = *p;
        results[r] = (double)(now_ns() - start) / steps;
    }
    qsort(results, repetitions, sizeof *results, compare);
    double median = repetitions % 2 ? results[repetitions / 2]
                                    : (results[repetitions / 2 - 1] + results[repetitions / 2]) / 2;
    printf("bytes %zu loads/repetition %zu median_ns %.2f best_ns %.2f end %p\n", lines * 64, steps, median, results[0], (void *)p);
    return 0;
}
