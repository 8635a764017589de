import CHostMemKernels

/// Makes `value` look used to the optimizer, so the work that produced it is kept.
@inline(__always)
func blackHole(_ value: UInt64) {
    hostmem_black_hole(value)
}

@inline(__always)
func blackHole(_ pointer: UnsafeRawPointer) {
    hostmem_black_hole(UInt64(UInt(bitPattern: pointer)))
}
