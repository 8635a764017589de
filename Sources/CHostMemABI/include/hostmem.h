/* hostmem C ABI: the contract between libhostmem_c.so and its users (the Python
 * package). Every function returns 0 on success or a hostmem_status code; after a
 * failure, hostmem_last_error() gives one sentence saying what went wrong (valid until
 * the calling thread's next call). Handles are opaque; free them with their _free. */
#ifndef HOSTMEM_H
#define HOSTMEM_H

#include <stdint.h>

/* The version of hostmem: of this ABI, the library, the command-line tool and the Python
 * package (the one place it is written; the others import it or are checked against it). */
#define HOSTMEM_VERSION "0.16.0"

#ifdef __cplusplus
extern "C" {
#endif

enum hostmem_status {
    HOSTMEM_OK = 0,
    HOSTMEM_INVALID = 1,     /* bad arguments: sizes, ranges, options */
    HOSTMEM_SYSTEM = 2,      /* the kernel refused (memory, affinity, files) */
    HOSTMEM_NOT_FOUND = 3,   /* no such GPU, node or file */
    HOSTMEM_END = 4          /* hostmem_loader_next: the epoch is over (not an error) */
};

/* The message of the calling thread's last failure ("" when none). */
const char *hostmem_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *hostmem_version(void);

/* An embedding bag over a copy of a row-major float32 table of rows x dim. int8 != 0
 * stores it 8-bit row-wise quantized (scale and bias per row); mode 0 sums, 1 averages;
 * prefetch > 0 asks for the rows up to that many lookups ahead (0: none; -1: the fastest
 * of 8, 16, 24, 32, 64 and 128 here): prefetch_style 0 in a burst before each bag, 1 one row
 * per lookup (fp32: line by line as its own is read), 3 one whole row per lookup before
 * its own is read, 2 whichever is fastest here. What is tuned is timed on this table at
 * creation (about 0.2 s); hostmem_bag_prefetch says what
 * was chosen. */
typedef struct hostmem_bag hostmem_bag;
int hostmem_bag_create(const float *table, int64_t rows, int64_t dim, int int8, int mode, int threads, int prefetch,
                       int prefetch_style, hostmem_bag **out);
/* An embedding bag over the caller's table, not copied: rows x dim values stored as
 * format says (0 float32, 1 8-bit row-wise: dim codes then a float32 scale and bias,
 * 2 IEEE fp16, 3 bfloat16), row after row. The caller keeps the memory valid and its
 * shape unchanged while the bag lives; the values may change between lookups (a
 * training framework's weight, updated in place). Sums are float32. mode, threads,
 * prefetch and prefetch_style as for hostmem_bag_create. */
int hostmem_bag_view(const void *table, int64_t rows, int64_t dim, int format, int mode, int threads, int prefetch,
                     int prefetch_style, hostmem_bag **out);
/* Pools bags: bag b holds indices[offsets[b] .. offsets[b+1]) (the last to the end);
 * weights (one per index) may be NULL; output receives bags x dim floats. */
int hostmem_bag_lookup(hostmem_bag *bag, const int32_t *indices, int64_t count, const int32_t *offsets, int64_t bags,
                       const float *weights, float *output);
/* The same with 64-bit indices and offsets (PyTorch's), each checked and narrowed here. */
int hostmem_bag_lookup64(hostmem_bag *bag, const int64_t *indices, int64_t count, const int64_t *offsets, int64_t bags,
                         const float *weights, float *output);
/* mode "max" (the bag's own mode is not used): each bag's largest value per column into
 * output (bags x dim floats) and, when max_indices is not NULL, the table row it came
 * from (bags x dim; -1 for an empty bag, whose values are 0). A tie keeps the first row;
 * a NaN wins over numbers. 64-bit indices and offsets, checked here. */
int hostmem_bag_max64(hostmem_bag *bag, const int64_t *indices, int64_t count, const int64_t *offsets, int64_t bags,
                      float *output, int64_t *max_indices);
/* The weight gradient of a sum (mode 0) or mean (1) bag lookup, coalesced: rows_out gets
 * the distinct rows looked up, ascending, and values_out (dim floats each, same order) the
 * sum over each row's lookups of the bag's scale (mean: 1 / its size without padding) x
 * the lookup's weight (weights may be NULL) x gradient[bag] (bags x dim floats). Lookups of
 * padding_idx (-1: none) get none; by_frequency != 0 divides each row's sum by its number
 * of lookups (scale_grad_by_freq). rows_out and values_out hold count entries (count x dim
 * floats); *distinct says how many were written. Indices checked against table_rows. The
 * rows are summed on up to `threads` threads. */
int hostmem_bag_gradient64(const float *gradient, int64_t dim, const int64_t *indices, int64_t count, const int64_t *offsets,
                           int64_t bags, const float *weights, int mode, int64_t padding_idx, int by_frequency, int64_t table_rows,
                           int64_t *rows_out, float *values_out, int threads, int64_t *distinct);
/* Asks for transparent huge pages under [address, address + bytes) (its 2 MiB-aligned
 * part; values unchanged), with collapse != 0 moving the pages already there onto huge
 * pages now (MADV_COLLAPSE, Linux 6.1). advised: the bytes advised; huge_now: the bytes
 * of the mappings overlapping the range on huge pages after (-1: unknown). Fails
 * (HOSTMEM_SYSTEM) where the kernel refuses: THP off, or no MADV_COLLAPSE. */
int hostmem_huge_pages(void *address, int64_t bytes, int collapse, int64_t *advised, int64_t *huge_now);
/* rows, dim, the bytes of one stored row (dim x 4 for float32, dim + 8 for int8, dim x 2 for fp16 and bf16), and
 * the prefetch style in use (0 burst, 1 per lookup, 3 per lookup whole rows). */
int hostmem_bag_shape(const hostmem_bag *bag, int64_t *rows, int64_t *dim, int64_t *row_bytes, int *prefetch_style);
/* The prefetch distance (lookups ahead, 0: off) and style (0 burst, 1 per lookup, 3 per lookup whole rows) in use. */
int hostmem_bag_prefetch(const hostmem_bag *bag, int *distance, int *style);
/* Where the bag's table lies (its first byte and size), for hostmem_place. */
int hostmem_bag_table(const hostmem_bag *bag, const void **address, int64_t *bytes);
void hostmem_bag_free(hostmem_bag *bag);

/* A batch loader over a memory-mapped dataset of fixed-size records: shuffled batches
 * gathered by worker threads into a fixed pool of aligned buffers (pinned when CUDA is
 * there), delivered in order. record_bytes 0 reads a .npy file's header; labels may be
 * NULL (label_bytes 0 for .npy labels). */
typedef struct hostmem_loader hostmem_loader;
typedef struct {
    int64_t batch_size;
    int32_t workers;           /* gathering threads, at least 1 */
    int32_t prefetch;          /* buffers in the pool; 0: the default (4 per worker) */
    int32_t shuffle;
    int32_t drop_last;
    int32_t sort_within_batch; /* gather in address order, deliver in shuffled order */
    int32_t pin;               /* cudaHostRegister the pool when libcudart loads */
    uint64_t seed;
    int32_t numa_node;         /* -1: none; else workers and buffers on that node */
    int32_t rank;              /* DistributedSampler's rank and world size (0 and 1 alone) */
    int32_t world_size;
    int32_t sampler_drop_last; /* DistributedSampler's drop_last: the epoch's tail that does not
                                  divide among the ranks is left out (else padded by repeating) */
} hostmem_loader_options;
typedef struct {
    int64_t index;             /* the batch's number in the epoch */
    int64_t count;             /* samples in it */
    const void *data;          /* count x record_bytes, valid until released */
    const void *labels;        /* count x label_bytes, or NULL */
    const uint32_t *indices;   /* the dataset index of each sample */
    int32_t slot;              /* the pool buffer to release; batch i is in slot i % pool_size */
} hostmem_batch;
int hostmem_loader_open(const char *data, int64_t record_bytes, const char *labels, int64_t label_bytes,
                        const hostmem_loader_options *options, hostmem_loader **out);
int hostmem_loader_shape(const hostmem_loader *loader, int64_t *records, int64_t *record_bytes, int64_t *label_bytes,
                         int64_t *batches_per_epoch, int64_t *samples_per_epoch, int32_t *pool_size, int32_t *pinned);
/* The pool's one mapping (every batch buffer lies in it), for a caller that registers
 * it with its own CUDA runtime: open with pin = 0, cudaHostRegister(base, bytes), and
 * unregister before hostmem_loader_free. */
int hostmem_loader_pool(const hostmem_loader *loader, void **base, int64_t *bytes);
/* Starts an epoch (its shuffle is seeded by seed and epoch) from batch first_batch.
 * busy_slots (busy_count of them, may be NULL): buffers of earlier batches the caller
 * still holds; they stay taken until released. */
int hostmem_loader_start(hostmem_loader *loader, int64_t epoch, int64_t first_batch, const int32_t *busy_slots, int32_t busy_count);
/* The next batch in order (waits for it), or HOSTMEM_END. */
int hostmem_loader_next(hostmem_loader *loader, hostmem_batch *out);
/* Gives a batch's buffer back to the pool. */
int hostmem_loader_release(hostmem_loader *loader, int32_t slot);
void hostmem_loader_free(hostmem_loader *loader);

/* The NUMA node of an NVIDIA GPU, from sysfs under root ("/" for this machine): gpu is
 * its index in PCI order, or -1 to use pci_address ("0000:18:00.0"). cpus receives the
 * node's CPUs this process may use (up to capacity; count says how many there are). */
int hostmem_gpu_node(const char *root, int gpu, const char *pci_address, int *node, int *cpus, int capacity, int *count);

/* Binds the calling thread (and the processes it forks later) to a NUMA node: CPU
 * affinity to the node's CPUs this process may use, memory policy to the node. cpus
 * receives those CPUs as hostmem_gpu_node does. */
int hostmem_bind_to_node(int node, int *cpus, int capacity, int *count);
/* Where the pages of [address, address + bytes) of this process are (move_pages: every
 * page, or 16384 spread over a larger range): pages_by_node[n] (n < capacity) gets the
 * pages found on node n, *checked those asked about, *not_present those not in memory.
 * With node >= 0, first binds the whole pages inside the range to that node and moves
 * those already there (mbind MPOL_BIND with MPOL_MF_MOVE; pages another process also
 * maps stay); node -1 only reads. HOSTMEM_NOT_FOUND for a node the machine lacks. */
int hostmem_place(void *address, int64_t bytes, int node, int64_t *pages_by_node, int capacity, int64_t *checked, int64_t *not_present);

#ifdef __cplusplus
}
#endif

#endif
