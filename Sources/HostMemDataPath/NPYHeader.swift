/// The header of a NumPy .npy file (format versions 1, 2 and 3): the dtype, the order,
/// the shape, and where the data starts.
public struct NPYHeader: Sendable, Hashable {
    /// The dtype as NumPy writes it: "<f4", "|u1", "<i8", "|V16"…
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]
    /// Bytes of one element.
    public var itemBytes: Int
    /// Offset of the first data byte.
    public var dataOffset: Int
    public var version: Int

    /// Elements in the whole array.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Bytes of one record: the array's first axis is the record axis.
    public var recordBytes: Int { shape.dropFirst().reduce(1, *) * itemBytes }
    public var records: Int { shape.first ?? 1 }

    /// Parses the first bytes of a file (at least the whole header).
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(DatasetError) -> NPYHeader {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .notNPY(path: path, reason: "no \\x93NUMPY magic")
        }
        let major = Int(bytes[6])
        let headerLength: Int
        let start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw .notNPY(path: path, reason: "header cut short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw .notNPY(path: path, reason: "format version \(major) is unknown (1, 2 and 3 are supported)")
        }
        guard bytes.count >= start + headerLength else { throw .notNPY(path: path, reason: "header cut short") }
        // Version 3 headers are UTF-8; 1 and 2 Latin-1 (the dict is ASCII in practice).
        let text = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: text) else { throw .notNPY(path: path, reason: "no 'descr' in the header") }
        if descr.hasPrefix("[") {
            throw .notNPY(path: path, reason: "structured dtypes (\(descr.prefix(40))…) are not supported; save one array per field")
        }
        let type = descr.trimmingCharacters(["'", "\""])
        guard let kind = type.first(where: { $0.isLetter }) else { throw .notNPY(path: path, reason: "dtype \(type) is not understood") }
        if kind == "O" { throw .objectDType(path: path, descr: type) }
        let digits = type.drop { !$0.isNumber }
        guard let size = Int(digits), size > 0 else { throw .notNPY(path: path, reason: "dtype \(type) has no size") }
        let itemBytes = kind == "U" ? size * 4 : size  // "<U10": 10 UCS-4 characters
        guard let order = value(of: "fortran_order", in: text) else { throw .notNPY(path: path, reason: "no 'fortran_order' in the header") }
        guard let shapeText = value(of: "shape", in: text), shapeText.hasPrefix("(") else {
            throw .notNPY(path: path, reason: "no 'shape' in the header")
        }
        let shape = shapeText.dropFirst().prefix { $0 != ")" }.split(separator: ",").compactMap { Int($0.trimmingCharacters([" ", "L"])) }
        let header = NPYHeader(descr: type, fortranOrder: order == "True", shape: shape, itemBytes: itemBytes,
                               dataOffset: start + headerLength, version: major)
        if header.fortranOrder && shape.count > 1 { throw .fortranOrder(path: path) }
        return header
    }

    /// The value of `key` in the header's Python dict literal: a quoted string, a
    /// tuple "(…)", a list "[…]" or a bare word (True, False), as written.
    static func value(of key: String, in text: String) -> String? {
        let characters = Array(text)
        for quote in ["'", "\""] {
            let needle = Array(quote + key + quote)
            guard let start = find(needle, in: characters) else { continue }
            var index = start + needle.count
            while index < characters.count && characters[index] == " " { index += 1 }
            guard index < characters.count, characters[index] == ":" else { return nil }
            index += 1
            while index < characters.count && characters[index] == " " { index += 1 }
            guard index < characters.count else { return nil }
            let first = characters[index]
            var end = index
            switch first {
            case "(", "[":
                let close: Character = first == "(" ? ")" : "]"
                var depth = 0
                while end < characters.count {
                    if characters[end] == first { depth += 1 }
                    if characters[end] == close { depth -= 1; if depth == 0 { end += 1; break } }
                    end += 1
                }
            case "'", "\"":
                end += 1
                while end < characters.count && characters[end] != first { end += 1 }
                end = min(end + 1, characters.count)
            default:
                while end < characters.count && characters[end] != "," && characters[end] != "}" { end += 1 }
            }
            return String(characters[index..<end]).trimmingCharacters([" "])
        }
        return nil
    }

    private static func find(_ needle: [Character], in haystack: [Character]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

extension StringProtocol {
    func trimmingCharacters(_ characters: Set<Character>) -> String {
        var result = Substring(self)
        while let first = result.first, characters.contains(first) { result.removeFirst() }
        while let last = result.last, characters.contains(last) { result.removeLast() }
        return String(result)
    }
}
