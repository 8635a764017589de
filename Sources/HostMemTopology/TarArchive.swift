/// Builds a POSIX tar archive (ustar, with pax headers for names too long for it) in
/// memory: directories, regular files and symbolic links.
public struct TarArchive: Sendable {
    public enum Entry: Sendable, Hashable {
        case directory
        case file([UInt8])
        case symbolicLink(String)
    }

    private var bytes: [UInt8] = []
    private let modificationTime: Int

    public init(modificationTime: Int = 0) {
        self.modificationTime = modificationTime
    }

    /// Appends one entry. `path` has no leading slash; directories need no trailing one.
    public mutating func append(_ path: String, _ entry: Entry) {
        var name = path
        if case .directory = entry, !name.hasSuffix("/") { name += "/" }
        var link = ""
        if case .symbolicLink(let target) = entry { link = target }
        let (prefix, shortName) = Self.split(name)
        var pax: [(String, String)] = []
        if shortName == nil { pax.append(("path", name)) }
        if link.utf8.count > 100 { pax.append(("linkpath", link)) }
        if !pax.isEmpty {
            let records = pax.map { Self.paxRecord($0.0, $0.1) }.joined()
            appendHeader(
                name: "PaxHeaders/" + String(name.suffix(80)), prefix: "", size: records.utf8.count,
                type: UInt8(ascii: "x"), link: "", mode: 0o644)
            appendData(Array(records.utf8))
        }
        switch entry {
        case .directory:
            appendHeader(name: shortName ?? String(name.suffix(99)), prefix: prefix, size: 0, type: UInt8(ascii: "5"), link: "", mode: 0o755)
        case .file(let content):
            appendHeader(name: shortName ?? String(name.suffix(99)), prefix: prefix, size: content.count, type: UInt8(ascii: "0"), link: "", mode: 0o644)
            appendData(content)
        case .symbolicLink(let target):
            appendHeader(
                name: shortName ?? String(name.suffix(99)), prefix: prefix, size: 0, type: UInt8(ascii: "2"),
                link: String(decoding: Array(target.utf8.prefix(100)), as: UTF8.self), mode: 0o777)
        }
    }

    /// The archive with its two closing zero blocks.
    public func finished() -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: 1024)
    }

    /// A name that fits ustar: (prefix, name) with name ≤ 100 and prefix ≤ 155 bytes,
    /// split at a slash; name is nil when it cannot fit.
    static func split(_ path: String) -> (prefix: String, name: String?) {
        let utf8 = Array(path.utf8)
        if utf8.count <= 100 { return ("", path) }
        // A directory's trailing slash stays with the name.
        let searchEnd = utf8.last == UInt8(ascii: "/") ? utf8.count - 1 : utf8.count
        for index in 0..<searchEnd where utf8[index] == UInt8(ascii: "/") {
            let prefix = utf8[..<index]
            let name = utf8[(index + 1)...]
            if prefix.count <= 155 && name.count <= 100 && name.count > 0 {
                return (String(decoding: prefix, as: UTF8.self), String(decoding: name, as: UTF8.self))
            }
        }
        return ("", nil)
    }

    /// "LEN key=value\n", where LEN counts the whole record including itself.
    static func paxRecord(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while "\(length)".utf8.count + body.utf8.count != length { length += 1 }
        return "\(length)\(body)"
    }

    private mutating func appendHeader(name: String, prefix: String, size: Int, type: UInt8, link: String, mode: Int) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(modificationTime, at: 136, width: 12)
        header[156] = type
        put(link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("root", at: 265, width: 32)
        put("root", at: 297, width: 32)
        put(prefix, at: 345, width: 155)
        // The checksum is computed with its own field as spaces.
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: max(0, 6 - digits.count)) + digits, at: 148, width: 6)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        bytes += header
    }

    private mutating func appendData(_ data: [UInt8]) {
        bytes += data
        let remainder = data.count % 512
        if remainder != 0 { bytes += [UInt8](repeating: 0, count: 512 - remainder) }
    }
}
