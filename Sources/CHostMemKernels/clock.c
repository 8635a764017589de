#include "hostmem_kernels.h"

uint64_t hostmem_dependent_adds(uint64_t iterations) {
    uint64_t value = 1;
    // The step comes from memory at run time, so each add is register + register: an
    // add of an immediate can be folded at rename on newer cores (Intel Golden Cove and
    // later retire several such dependent adds per cycle), a register add cannot.
    volatile uint64_t step_source = 1;
    uint64_t step = step_source;
#if defined(__x86_64__)
    for (uint64_t i = 0; i < iterations; i++) {
        __asm__ __volatile__(
            ".rept 64\n\t"
            "addq %1, %0\n\t"
            ".endr"
            : "+r"(value) : "r"(step));
    }
#elif defined(__aarch64__)
    for (uint64_t i = 0; i < iterations; i++) {
        __asm__ __volatile__(
            ".rept 64\n\t"
            "add %0, %0, %1\n\t"
            ".endr"
            : "+r"(value) : "r"(step));
    }
#else
    volatile uint64_t sink = value;
    for (uint64_t i = 0; i < iterations * 64; i++) sink = sink + step;
    value = sink;
#endif
    return value;
}
