/// Pure parsers for the text formats of /proc and /sys that topology reading needs.
/// Each takes the file's text and returns values; none touches the file system.
public enum Parsers {
    /// The value of one hex digit's byte ("0"–"9", "a"–"f", "A"–"F"); nil for any other.
    public static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A file whose text is not in the expected format.
    public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// `/proc/meminfo` or `nodeN/meminfo` ("Node 0 MemTotal: 123 kB"): field → bytes
    /// (values without a unit, like HugePages_Total, are kept as counts).
    public static func meminfo(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var key = Substring(line[..<colon])
            if key.hasPrefix("Node ") {
                // "Node 0 MemTotal" → "MemTotal"
                key = key.split(separator: " ").last ?? key
            }
            let fields = line[line.index(after: colon)...].split(separator: " ")
            guard let first = fields.first, let value = UInt64(first) else { continue }
            let unit = fields.count > 1 ? fields[1].lowercased() : ""
            result[String(key)] = unit == "kb" ? value * 1024 : value
        }
        return result
    }

    /// A sysfs cache size ("32K", "1024K", "32768K", "8M", "512"), in bytes.
    public static func cacheSize(_ text: String) -> UInt64? {
        let trimmed = text.trimmingWhitespace()
        guard let last = trimmed.last else { return nil }
        let multiplier: UInt64
        var digits = Substring(trimmed)
        switch last {
        case "K", "k": multiplier = 1 << 10; digits = digits.dropLast()
        case "M", "m": multiplier = 1 << 20; digits = digits.dropLast()
        case "G", "g": multiplier = 1 << 30; digits = digits.dropLast()
        default: multiplier = 1
        }
        guard let value = UInt64(digits) else { return nil }
        return value * multiplier
    }

    /// The bracketed choice of a sysfs mode file: "always [madvise] never" → "madvise".
    public static func selectedMode(_ text: String) -> String? {
        guard let open = text.firstIndex(of: "["), let close = text[open...].firstIndex(of: "]") else {
            let trimmed = text.trimmingWhitespace()
            return trimmed.isEmpty || trimmed.contains(" ") ? nil : trimmed
        }
        return String(text[text.index(after: open)..<close])
    }

    /// An unsigned decimal number spelled in bytes; nil for anything else.
    public static func decimal<Digits: Collection<UInt8>>(_ digits: Digits) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }
    /// A file holding one integer ("0\n").
    public static func integer(_ text: String) -> Int? {
        Int(text.trimmingWhitespace())
    }

    /// A hex integer with or without "0x" ("0x030000").
    public static func hexInteger(_ text: String) -> Int? {
        var trimmed = Substring(text.trimmingWhitespace())
        if trimmed.hasPrefix("0x") || trimmed.hasPrefix("0X") { trimmed = trimmed.dropFirst(2) }
        return Int(trimmed, radix: 16)
    }

    /// `/proc/PID/status`: "Key:\tvalue" lines.
    public static func keyValues(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[String(line[..<colon])] = line[line.index(after: colon)...].trimmingWhitespace()
        }
        return result
    }

    /// One line of `/proc/mounts`.
    public struct Mount: Sendable, Hashable {
        public var device: String
        public var mountPoint: String
        public var type: String
        public var options: [String]
    }

    /// `/proc/mounts` (octal escapes like `\040` decoded in the mount point).
    public static func mounts(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { return nil }
            return Mount(
                device: String(fields[0]), mountPoint: unescapeOctal(fields[1]), type: String(fields[2]),
                options: fields[3].split(separator: ",").map(String.init))
        }
    }

    /// `/proc/PID/cgroup`: hierarchy ID → (controllers, path). cgroup v2's line has ID 0
    /// and no controllers.
    public struct CgroupMembership: Sendable, Hashable {
        public var hierarchy: Int
        public var controllers: [String]
        public var path: String
    }

    public static func cgroups(_ text: String) -> [CgroupMembership] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let hierarchy = Int(fields[0]) else { return nil }
            let controllers = fields[1].split(separator: ",").map(String.init)
            return CgroupMembership(hierarchy: hierarchy, controllers: controllers, path: String(fields[2]))
        }
    }

    /// `nodeN/distance`: "10 21 21 10".
    public static func distances(_ text: String) throws(FormatError) -> [Int] {
        var result: [Int] = []
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            guard let value = Int(field) else {
                throw FormatError(reason: "\"\(field)\" is not a distance")
            }
            result.append(value)
        }
        return result
    }

    /// `/proc/driver/nvidia/gpus/ADDR/numa_status`: the "Node:" line, the NUMA node
    /// that holds this GPU's memory, or nil when there is none (-1 or absent).
    public static func nvidiaNUMAStatusNode(_ text: String) -> Int? {
        guard let value = keyValues(text)["Node"].flatMap(Int.init), value >= 0 else { return nil }
        return value
    }

    /// `/proc/cpuinfo`'s "processor : N" numbers, for trees with no sysfs CPU directories.
    public static func cpuinfoProcessors(_ text: String) -> [Int] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingWhitespace() == "processor" else { return nil }
            return Int(parts[1].trimmingWhitespace())
        }
    }

    private static func unescapeOctal(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "\\"), utf8.count >= 4,
               let value = UInt8(String(decoding: utf8.dropFirst().prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(4)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
