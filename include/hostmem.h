/* hostmem C ABI: the contract between libhostmem_c.so and its users (the Python
 * package). Every function returns 0 on success or a hostmem_status code; after a
 * failure, hostmem_last_error() gives one sentence saying what went wrong (valid until
 * the calling thread's next call). Handles are opaque; free them with their _free. */
#ifndef HOSTMEM_H
#define HOSTMEM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum hostmem_status {
    HOSTMEM_OK = 0,
    HOSTMEM_INVALID = 1,     /* bad arguments: sizes, ranges, options */
    HOSTMEM_SYSTEM = 2,      /* the kernel refused (memory, affinity, files) */
    HOSTMEM_NOT_FOUND = 3    /* no such GPU, node or file */
};

/* The message of the calling thread's last failure ("" when none). */
const char *hostmem_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *hostmem_version(void);

/* An embedding bag over a copy of a row-major float32 table of rows x dim. int8 != 0
 * stores it 8-bit row-wise quantized (scale and bias per row); mode 0 sums, 1 averages. */
typedef struct hostmem_bag hostmem_bag;
int hostmem_bag_create(const float *table, int64_t rows, int64_t dim, int int8, int mode, int threads, hostmem_bag **out);
/* Pools bags: bag b holds indices[offsets[b] .. offsets[b+1]) (the last to the end);
 * weights (one per index) may be NULL; output receives bags x dim floats. */
int hostmem_bag_lookup(hostmem_bag *bag, const int32_t *indices, int64_t count, const int32_t *offsets, int64_t bags,
                       const float *weights, float *output);
/* rows, dim and the bytes of one stored row (dim x 4 for float32, dim + 8 for int8). */
int hostmem_bag_shape(const hostmem_bag *bag, int64_t *rows, int64_t *dim, int64_t *row_bytes);
void hostmem_bag_free(hostmem_bag *bag);

/* The NUMA node of an NVIDIA GPU, from sysfs under root ("/" for this machine): gpu is
 * its index in PCI order, or -1 to use pci_address ("0000:18:00.0"). cpus receives the
 * node's CPUs this process may use (up to capacity; count says how many there are). */
int hostmem_gpu_node(const char *root, int gpu, const char *pci_address, int *node, int *cpus, int capacity, int *count);

/* Binds the calling thread (and the processes it forks later) to a NUMA node: CPU
 * affinity to the node's CPUs this process may use, memory policy to the node. cpus
 * receives those CPUs as hostmem_gpu_node does. */
int hostmem_bind_to_node(int node, int *cpus, int capacity, int *count);

#ifdef __cplusplus
}
#endif

#endif
