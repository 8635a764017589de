import FoundationEssentials

/// The one JSON set-up every `--json` output and cache file uses: pretty, sorted keys,
/// slashes unescaped (paths stay readable); `lines` for one object per line (JSON Lines).
public enum JSONFormat {
    public static func encoder(lines: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = lines ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func data<T: Encodable>(_ value: T, lines: Bool = false) throws -> Data {
        try encoder(lines: lines).encode(value)
    }

    public static func string<T: Encodable>(_ value: T, lines: Bool = false) throws -> String {
        String(decoding: try data(value, lines: lines), as: UTF8.self)
    }
}
