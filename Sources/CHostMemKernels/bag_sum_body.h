// The bag-sum kernel's body, written once and compiled for each vector width:
// embedding.c includes this file once per ISA after defining
//   BAG_NAME      the exported function (hostmem_bag_sum_avx512, …), which also prefixes
//                 this file's own functions
//   BAG_ISA       the target attribute ("avx512f", "avx2,fma")
//   BAG_VEC, BAG_LANES, BAG_REGISTERS   the vector type, its fp32 lanes, the register count
//   BAG_ZERO, BAG_SET1, BAG_FMADD, BAG_ADD, BAG_STORE, BAG_LOAD_F32, BAG_LOAD_U8, BAG_LOAD_F16,
//   BAG_LOAD_BF16 the intrinsics (the loads widen 8-bit codes, fp16 and bf16 values to fp32)
// and undefines them after. Every function here is inline with flags that are constants
// at each call (`BAG_NAME` dispatches on them), so the compiler makes one loop per
// combination and keeps a block's accumulators in registers.

#define BAG_JOIN2(a, b) a##_##b
#define BAG_JOIN(a, b) BAG_JOIN2(a, b)
#define BAG_LOCAL(name) BAG_JOIN(BAG_NAME, name)

/// Adds the first `count` of a block's vectors (fp32 values; 8-bit codes, fp16 or bf16
/// values widened: `format` a HOSTMEM_ROWS_… constant; `step` bytes apart from `at`) to `sum`: `scale` × each with `fma`, else plain. With
/// `prefetching`, the line of `ahead` that each cache line of the block starts at is
/// prefetched right after that line's load, so requests go out evenly through the loop
/// rather than in a cluster per lookup (fp32 4 M × 128, uniform, Zen 3, one pass, one
/// process: 13.2 → 15.3 M lookups/s). The loop is unrolled in full and bounded by 16, so
/// `sum` is indexed by constants only and stays in registers (one loop left rolled put all
/// 16 accumulators on the stack).
__attribute__((target(BAG_ISA), always_inline)) static inline void BAG_LOCAL(add_vectors)(
    BAG_VEC *sum, const int count, const int max_vectors, const int fma, BAG_VEC scale, const unsigned char *at,
    const long step, const int format, const int prefetching, const unsigned char *ahead) {
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++) {
        if (k < max_vectors && k < count) {
            BAG_VEC value = format == HOSTMEM_ROWS_INT8   ? BAG_LOAD_U8(at + step * k)
                            : format == HOSTMEM_ROWS_F16  ? BAG_LOAD_F16(at + step * k)
                            : format == HOSTMEM_ROWS_BF16 ? BAG_LOAD_BF16(at + step * k)
                                                          : BAG_LOAD_F32(at + step * k);
            sum[k] = fma ? BAG_FMADD(scale, value, sum[k]) : BAG_ADD(sum[k], value);
            if (prefetching && step * k % 64 == 0) hostmem_prefetch(ahead + step * k);
        }
    }
}

/// Bag [first, last)'s sums for the block at column `block`, its first `count` vectors,
/// stored to `destination`. Called with a constant `count` for the usual block sizes
/// (blocks are cut so that the last is one of them), so that each size gets its own loop
/// and registers: with one loop for every size, the accumulators of all of them were live
/// at once and an 8-bit block spilled. With `streamed`, each lookup asks for the row
/// `prefetch` lookups after it (fp32: line by line in `add_vectors` into L2; 8-bit: the
/// whole row into L2, a few lines not on line boundaries, in the first block; with
/// `whole_row`, either: the whole row into L1 before its own is summed, as the plainest
/// loop does: fp32 4 M × 128 uniform, Zen 4, 16 ahead: 67 M lookups/s into L1, 55 M into L2).
__attribute__((target(BAG_ISA), always_inline)) static inline void BAG_LOCAL(sum_block)(
    const struct bag_call *call, const long first, const long last, const long block, float *destination, const int count,
    const int max_vectors, const int weighted, const int format, const int cached, const int streamed, const int whole_row) {
    const int int8 = format == HOSTMEM_ROWS_INT8;
    const long value_bytes = format == HOSTMEM_ROWS_F32 ? 4 : 2;  // of a fp32, fp16 or bf16 value
    BAG_VEC sum[16];
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++) if (k < max_vectors && k < count) sum[k] = BAG_ZERO();
    float bias_sum = 0;
    const hostmem_row_cache *cache = cached ? call->cache : 0;
    for (long p = first; p < last; p++) {
        const unsigned char *row = row_address(call->table, call->indices[p], call->stride, cache);
        const unsigned char *ahead = row;
        if (streamed && (!int8 || block == 0) && p + call->prefetch < call->stream_end)
            ahead = row_address(call->table, call->indices[p + call->prefetch], call->stride, cache);
        const float weight = weighted ? call->weights[p] : 1.0f;
        if (int8 || whole_row) {
            if (streamed && block == 0) prefetch_row(ahead, call->stride, whole_row);  // whole rows go to L1
        }
        if (int8) {
            float scale, bias;
            __builtin_memcpy(&scale, row + call->dim, 4);
            __builtin_memcpy(&bias, row + call->dim + 4, 4);
            bias_sum += weight * bias;
            BAG_LOCAL(add_vectors)(sum, count, max_vectors, 1, BAG_SET1(weight * scale), row + block, BAG_LANES, format, 0, row);
        } else {
            BAG_LOCAL(add_vectors)(sum, count, max_vectors, weighted, BAG_SET1(weight), row + value_bytes * block,
                                   value_bytes * BAG_LANES, format, streamed && !whole_row, ahead + value_bytes * block);
        }
    }
    // An 8-bit row adds weight × scale × code to each column and weight × bias to a scalar
    // that is added to every column at the end.
    const BAG_VEC biases = BAG_SET1(bias_sum);
    _Pragma("clang loop unroll(full)") for (int k = 0; k < 16; k++)
        if (k < max_vectors && k < count) BAG_STORE(destination + block + BAG_LANES * k, int8 ? BAG_ADD(sum[k], biases) : sum[k]);
}

/// Bags [first_bag, end_bag), a block of columns at a time. A block is up to 16 vectors of
/// columns, summed in registers over the bag's rows and stored once: AVX-512 has 32
/// registers, so 16 always fit (256 columns); AVX2 has 16, so an unweighted fp32 block
/// takes all 16 (128 columns; each add reads its row from memory and needs no other
/// register), a weighted one 14 (beside the weight), an 8-bit one 13, or 12 weighted
/// (beside the scale, the widened codes and the bias sum; one more spilled). Blocks are
/// cut so the last is a size with its own loop: 128 8-bit columns are 12 and 4 vectors,
/// not 13 and 3. Few passes over a row matter more than anything else here: the loop
/// keeps asking for rows instead of rereading a bag from L1. On Zen 3, with per-lookup
/// prefetch, fp32 4 M × 128 uniform went 8.9 → 15.3 M lookups/s with one pass instead of
/// two of 64 columns; int8 26.0 → 28.8 M with passes of 96 and 32 columns instead of two
/// of 64 (one process, alternating). Without `streamed` and with `prefetch`, the rows up
/// to `prefetch` lookups past each bag (with `deduped`: distinct rows past its first uses)
/// are asked for in a burst before it is summed.
__attribute__((target(BAG_ISA), always_inline)) static inline void BAG_LOCAL(body)(
    const struct bag_call *call, const long first_bag, const long end_bag, const int weighted, const int format,
    const int cached, const int deduped, const int streamed, const int whole_row) {
    // AVX2: fp16 and bf16 values are widened in a register of their own, as a weight is held in one.
    const int int8 = format == HOSTMEM_ROWS_INT8;
    const int max_vectors = BAG_REGISTERS == 32 || (format == HOSTMEM_ROWS_F32 && !weighted) ? 16 : !int8 ? 14 : weighted ? 12 : 13;
    const hostmem_row_cache *cache = cached ? call->cache : 0;
    // What is prefetched: the lookups' rows, or the distinct rows in first-use order.
    const int *stream = deduped ? call->distinct->rows : call->indices;
    const uint8_t *first_use = deduped ? call->distinct->first_use - call->distinct->first_position : 0;
    long prefetched = deduped ? 0 : call->offsets[first_bag];  // the next entry of `stream` to prefetch
    long seen = 0;  // first uses up to the end of this bag
    for (long b = first_bag; b < end_bag; b++) {
        const long first = call->offsets[b], last = bag_end(call->offsets, call->n_offsets, call->n_indices, b);
        float *destination = call->out + b * call->dim;
        if (call->prefetch > 0 && !streamed) {  // up to `prefetch` past this bag, before summing it
            long upto = last + call->prefetch;
            if (deduped) {
                for (long p = first; p < last; p++) seen += first_use[p];
                upto = seen + call->prefetch;
            }
            for (; prefetched < upto && prefetched < call->stream_end; prefetched++)
                prefetch_row_l2(row_address(call->table, stream[prefetched], call->stride, cache), call->stride);
        }
        for (long block = 0, vectors; block < call->dim; block += vectors * BAG_LANES) {
            const long remaining = (call->dim - block) / BAG_LANES;
            vectors = remaining < max_vectors ? remaining : max_vectors;
            // A block of 16 vectors at most 13 at a time: 12 and 4, whose sizes have loops below.
            for (long tail = remaining - vectors; tail > 0 && tail < 8 && (tail & (tail - 1)); tail++) vectors--;
#define BAG_BLOCK(count) \
    BAG_LOCAL(sum_block)(call, first, last, block, destination, (count), max_vectors, weighted, format, cached, streamed, whole_row)
            if (vectors == max_vectors) BAG_BLOCK(max_vectors);
            else if (vectors == 12) BAG_BLOCK(12);
            else if (vectors == 8) BAG_BLOCK(8);
            else if (vectors == 4) BAG_BLOCK(4);
            else if (vectors == 2) BAG_BLOCK(2);
            else BAG_BLOCK((int)vectors);
#undef BAG_BLOCK
        }
    }
}

__attribute__((target(BAG_ISA))) void BAG_NAME(const void *table, long dim, int format, const int *indices, long n_indices,
                                               const int *offsets, long n_offsets, long first_bag, long end_bag,
                                               const float *weights, float *out, long prefetch, int per_lookup,
                                               const hostmem_row_cache *cache, const hostmem_distinct_rows *distinct) {
    const int deduped = distinct != 0;
    const int streamed = per_lookup && prefetch > 0 && !deduped;  // dedup's stream is distinct rows: a burst per bag
    const int whole_row = streamed && per_lookup == 2;
    const long stride = format == HOSTMEM_ROWS_INT8 ? dim + 8 : format == HOSTMEM_ROWS_F32 ? dim * 4 : dim * 2;
    const struct bag_call call = {
        .table = table, .dim = dim, .stride = stride, .indices = indices, .n_indices = n_indices,
        .offsets = offsets, .n_offsets = n_offsets, .weights = weights, .out = out, .prefetch = prefetch, .cache = cache,
        .distinct = distinct,
        .stream_end = deduped ? distinct->count : bag_end(offsets, n_offsets, n_indices, end_bag - 1),
    };
    // One loop per combination of the flags, each a constant in its call: the key is
    // weighted << 5 | format << 3 | cached << 2 | mode, the mode 0 (no stream), 1 (streamed
    // line by line), 2 (deduped; never streamed) or 3 (streamed a whole row at a time).
    const int weighted = weights != 0, cached = cache != 0;
#define BAG_CASE(key)                                                                                                   \
    case (key):                                                                                                         \
        BAG_LOCAL(body)(&call, first_bag, end_bag, (key) >> 5 & 1, (key) >> 3 & 3, (key) >> 2 & 1, ((key) & 3) == 2,     \
                        (key) & 1, ((key) & 3) == 3);                                                                   \
        break
#define BAG_CASES(base) BAG_CASE(base); BAG_CASE((base) + 1); BAG_CASE((base) + 2); BAG_CASE((base) + 3)
    switch (weighted << 5 | (format & 3) << 3 | cached << 2 | (whole_row ? 3 : deduped << 1 | streamed)) {
        BAG_CASES(0x00); BAG_CASES(0x04); BAG_CASES(0x08); BAG_CASES(0x0c);
        BAG_CASES(0x10); BAG_CASES(0x14); BAG_CASES(0x18); BAG_CASES(0x1c);
        BAG_CASES(0x20); BAG_CASES(0x24); BAG_CASES(0x28); BAG_CASES(0x2c);
        BAG_CASES(0x30); BAG_CASES(0x34); BAG_CASES(0x38); BAG_CASES(0x3c);
    }
#undef BAG_CASES
#undef BAG_CASE
}

#undef BAG_LOCAL
#undef BAG_JOIN
#undef BAG_JOIN2
#undef BAG_NAME
#undef BAG_ISA
#undef BAG_VEC
#undef BAG_LANES
#undef BAG_REGISTERS
#undef BAG_ZERO
#undef BAG_SET1
#undef BAG_FMADD
#undef BAG_ADD
#undef BAG_STORE
#undef BAG_LOAD_F32
#undef BAG_LOAD_U8
#undef BAG_LOAD_F16
#undef BAG_LOAD_BF16
