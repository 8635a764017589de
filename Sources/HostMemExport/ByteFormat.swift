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
}
