import CHostMemShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// NUMA memory placement: where new pages of a range or a thread are allocated, and
/// where existing pages are.
public enum MemoryPolicy {
    /// The kernel's policy modes (`MPOL_*` in linux/mempolicy.h).
    public enum Mode: Int32, Sendable, Codable {
        case `default` = 0, preferred = 1, bind = 2, interleave = 3, local = 4
    }

    /// Bits in the node masks we pass: 1024 nodes, as the kernel's default
    /// CONFIG_NODES_SHIFT=10 allows.
    static let maskWords = 16

    static func mask(of nodes: [Int]) -> [UInt] {
        var words = [UInt](repeating: 0, count: maskWords)
        for node in nodes where node >= 0 && node < maskWords * UInt.bitWidth {
            words[node / UInt.bitWidth] |= 1 << UInt(node % UInt.bitWidth)
        }
        return words
    }

    static func nodes(ofMask words: [UInt]) -> [Int] {
        var nodes: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            for bit in 0..<UInt.bitWidth where word & (1 << UInt(bit)) != 0 {
                nodes.append(index * UInt.bitWidth + bit)
            }
        }
        return nodes
    }

    /// Binds the pages of `span` to `nodes` (`MPOL_BIND`); pages already present are
    /// moved when `moveExisting` is set (`MPOL_MF_MOVE`; pages another process also maps
    /// stay where they are, which `PagePlacement.of` then shows).
    /// The corresponding C function is `mbind`.
    public static func bind(_ span: RawSpan, toNodes nodes: [Int], moveExisting: Bool = false) throws(SystemError) {
        let words = mask(of: nodes)
        let flags: UInt32 = moveExisting ? 0b10 : 0  // MPOL_MF_MOVE
        _ = try retryingInterrupts("mbind", path: nil) {
            words.withUnsafeBufferPointer { buffer in
                hostmem_mbind(span.base, UInt(span.count), Mode.bind.rawValue,
                              buffer.baseAddress, UInt(maskWords * UInt.bitWidth + 1), flags)
            }
        }
    }

    /// Sets the calling thread's policy for the pages it allocates from now on.
    /// The corresponding C function is `set_mempolicy`.
    public static func setThreadPolicy(_ mode: Mode, nodes: [Int]) throws(SystemError) {
        let words = mask(of: nodes)
        _ = try retryingInterrupts("set_mempolicy", path: nil) {
            words.withUnsafeBufferPointer { buffer in
                hostmem_set_mempolicy(mode.rawValue, mode == .default || mode == .local ? nil : buffer.baseAddress,
                                      UInt(maskWords * UInt.bitWidth + 1))
            }
        }
    }

    /// The policy of the page range containing `address` (`MPOL_F_ADDR`), or of the
    /// calling thread when `address` is nil.
    /// The corresponding C function is `get_mempolicy`.
    public static func policy(at address: UnsafeRawPointer? = nil) throws(SystemError) -> (mode: Mode, nodes: [Int]) {
        var mode: Int32 = 0
        var words = [UInt](repeating: 0, count: maskWords)
        let flags: UInt = address == nil ? 0 : 2  // MPOL_F_ADDR
        _ = try retryingInterrupts("get_mempolicy", path: nil) {
            words.withUnsafeMutableBufferPointer { buffer in
                hostmem_get_mempolicy(&mode, buffer.baseAddress, UInt(maskWords * UInt.bitWidth + 1),
                                      UnsafeMutableRawPointer(mutating: address), flags)
            }
        }
        // Mode flags (MPOL_F_STATIC_NODES…) sit in the high bits; keep the mode.
        return (Mode(rawValue: mode & 0xff) ?? .default, nodes(ofMask: words))
    }

    /// Where each page is: its node number, or a negative errno for a page that is not
    /// present (`-ENOENT`) or cannot be queried.
    /// The corresponding C function is `move_pages` with no target nodes.
    public static func nodes(ofPages pages: [UnsafeRawPointer]) throws(SystemError) -> [Int] {
        var addresses: [UnsafeMutableRawPointer?] = pages.map { UnsafeMutableRawPointer(mutating: $0) }
        var status = [Int32](repeating: 0, count: pages.count)
        _ = try retryingInterrupts("move_pages", path: nil) {
            addresses.withUnsafeMutableBufferPointer { addressBuffer in
                status.withUnsafeMutableBufferPointer { statusBuffer in
                    hostmem_move_pages(0, UInt(addressBuffer.count), addressBuffer.baseAddress, nil, statusBuffer.baseAddress, 0)
                }
            }
        }
        return status.map(Int.init)
    }
}
