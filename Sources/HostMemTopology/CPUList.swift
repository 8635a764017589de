/// Parsers and printers for the kernel's two ways of writing a set of CPU or node
/// numbers: the list form (`0-3,8,10-11`, as in `cpulist` and `Cpus_allowed_list`)
/// and the mask form (`00000000,0000ff0f`, comma-separated 32-bit hex words, most
/// significant first, as in `cpumap` and `shared_cpu_map`).
public enum CPUList {
    /// A malformed list or mask, with the text that could not be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { "cannot read CPU set \"\(text)\": \(reason)" }
    }

    /// Parses the list form. An empty string (or only whitespace) is the empty set.
    public static func parseList(_ text: String) throws(ParseError) -> [Int] {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty { return [] }
        var result = Set<Int>()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            // A range may carry a stride, "0-15:2" (used in boot parameters and cgroup files).
            let rangeAndStride = part.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let bounds = rangeAndStride[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = Int(bounds[0]), low >= 0 else {
                throw ParseError(text: text, reason: "\"\(part)\" is not a number or range")
            }
            var high = low
            if bounds.count == 2 {
                guard let value = Int(bounds[1]), value >= low else {
                    throw ParseError(text: text, reason: "\"\(part)\" is not a valid range")
                }
                high = value
            }
            var stride = 1
            if rangeAndStride.count == 2 {
                guard let value = Int(rangeAndStride[1]), value > 0 else {
                    throw ParseError(text: text, reason: "\"\(part)\" has an invalid stride")
                }
                stride = value
            }
            guard high - low < 1 << 20 else {
                throw ParseError(text: text, reason: "range \"\(part)\" is implausibly large")
            }
            for cpu in Swift.stride(from: low, through: high, by: stride) { result.insert(cpu) }
        }
        return result.sorted()
    }

    /// Parses the mask form. Read over UTF-8 bytes: sysfs has one per CPU and cache (core,
    /// package and sharing masks), each 64 hex words long on a 2048-CPU kernel, thousands
    /// per topology read on a large server.
    public static func parseMask(_ text: String) throws(ParseError) -> [Int] {
        var utf8 = text.utf8[...]
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0 }
        while let first = utf8.first, isSpace(first) { utf8 = utf8.dropFirst() }
        while let last = utf8.last, isSpace(last) { utf8 = utf8.dropLast() }
        if utf8.isEmpty { return [] }
        let words = utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        var result: [Int] = []
        for (position, word) in words.reversed().enumerated() {
            var digits = word
            if digits.starts(with: [UInt8(ascii: "0"), UInt8(ascii: "x")]) { digits = digits.dropFirst(2) }
            let nibbles = digits.map(Parsers.hexDigit)
            guard !nibbles.isEmpty, nibbles.count <= 8, !nibbles.contains(nil) else {
                throw ParseError(text: text, reason: "\"\(String(decoding: word, as: UTF8.self))\" is not a 32-bit hex word")
            }
            let value = nibbles.reduce(UInt32(0)) { $0 << 4 | UInt32($1!) }
            var bits = value
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                result.append(position * 32 + bit)
                bits &= bits - 1
            }
        }
        return result.sorted()
    }

    /// Prints a set in the list form, `0-3,8`.
    public static func format(_ cpus: some Sequence<Int>) -> String {
        let sorted = Array(Set(cpus)).sorted()
        guard var start = sorted.first else { return "" }
        var parts: [String] = []
        var previous = start
        for cpu in sorted.dropFirst() {
            if cpu == previous + 1 {
                previous = cpu
                continue
            }
            parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = cpu
            previous = cpu
        }
        parts.append(start == previous ? "\(start)" : "\(start)-\(previous)")
        return parts.joined(separator: ",")
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\0" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
