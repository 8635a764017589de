import Foundation

/// Human-readable byte counts in binary units: "512 B", "32 KiB", "1 MiB", "23.5 GiB".
/// Whole numbers print without decimals; others with one.
public enum ByteFormat {
    public static func string(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit + 1 < units.count {
            value /= 1024
            unit += 1
        }
        if value == value.rounded() { return "\(Int(value)) \(units[unit])" }
        let tenths = (value * 10).rounded() / 10
        if tenths == tenths.rounded() { return "\(Int(tenths)) \(units[unit])" }
        return "\(tenths) \(units[unit])"
    }

    public static func string(_ bytes: UInt64?, unknown: String = "unknown") -> String {
        bytes.map(string) ?? unknown
    }

    /// Mebibytes as the doctor quotes them: whole from 10 MiB up ("349 MiB"), else one decimal ("1.0 MiB").
    public static func mebibytes(_ bytes: UInt64) -> String {
        bytes >= 10 << 20 ? "\(bytes >> 20) MiB" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// Gibibytes with one decimal ("512.0 GiB").
    public static func gibibytes(_ bytes: UInt64) -> String { String(format: "%.1f GiB", Double(bytes) / 1_073_741_824) }

    /// Whole mebibytes, rounded down, without the unit ("40960").
    public static func wholeMebibytes(_ bytes: UInt64) -> String { "\(bytes >> 20)" }
}
