import HostMemPlatform
/// Pure parsers for the cgroup and PSI file formats (the kernel's
/// Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/memory.rst, accounting/psi.rst).
public enum CgroupParsers {
    /// Values at or above this are the kernel's "no limit" (v1 writes PAGE_COUNTER_MAX
    /// pages in bytes, 9223372036854771712; v2 writes "max").
    static let unlimited: UInt64 = 1 << 60

    /// v2 `cpu.max`: "$MAX $PERIOD", MAX "max" for none. Returns nil for a malformed
    /// file, `.some(nil)` quota for no limit.
    public static func cpuMax(_ text: String) -> (quota: UInt64?, period: UInt64)? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let period = UInt64(fields[1]), period > 0 else { return nil }
        if fields[0] == "max" { return (nil, period) }
        guard let quota = UInt64(fields[0]) else { return nil }
        return (quota, period)
    }

    /// v1 `cpu.cfs_quota_us`: microseconds, -1 for none. Nil when malformed;
    /// `.some(nil)` for no limit.
    public static func cfsQuota(_ text: String) -> UInt64?? {
        guard let value = Int64(text.trimmingWhitespace()) else { return nil }
        return .some(value < 0 ? nil : UInt64(value))
    }

    /// A byte limit: "max" (v2) or a number, where the kernel's largest values mean
    /// no limit. Nil when malformed; `.some(nil)` for no limit.
    public static func byteLimit(_ text: String) -> UInt64?? {
        let trimmed = text.trimmingWhitespace()
        if trimmed == "max" { return .some(nil) }
        guard let value = UInt64(trimmed) else { return nil }
        return .some(value >= unlimited ? nil : value)
    }

    /// "key value" lines (`cpu.stat`, `memory.stat`, `memory.events`, v1
    /// `memory.oom_control`). Lines that do not hold a number are skipped.
    public static func flatKeyed(_ text: String) -> [String: UInt64] {
        // Bytes, not Characters: /proc/vmstat is ~180 lines, read at each window's ends.
        var result: [String: UInt64] = [:]
        var text = text
        text.withUTF8 { bytes in
            ByteLines.forEach(in: bytes) { line in
                guard let space = line.firstIndex(of: UInt8(ascii: " ")), space > line.startIndex,
                      let value = Parsers.decimal(line[(space + 1)...]) else { return }
                result[String(decoding: line[..<space], as: UTF8.self)] = value
            }
        }
        return result
    }

    /// A PSI file: "some avg10=1.53 avg60=0.87 avg300=0.40 total=1234567" and, except
    /// for the system-wide CPU line on old kernels, a "full …" line.
    public static func pressure(_ text: String) -> Pressure? {
        var some: (Double, UInt64)?
        var full: (Double, UInt64)?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let kind = fields.first else { continue }
            var average: Double?
            var total: UInt64?
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if pair[0] == "avg10" { average = Double(pair[1]) }
                if pair[0] == "total" { total = UInt64(pair[1]) }
            }
            guard let average, let total else { continue }
            if kind == "some" { some = (average, total) }
            if kind == "full" { full = (average, total) }
        }
        guard let some else { return nil }
        return Pressure(someAverage10: some.0, fullAverage10: full?.0, someTotalMicroseconds: some.1, fullTotalMicroseconds: full?.1)
    }
}
