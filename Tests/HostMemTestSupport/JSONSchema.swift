import Foundation

/// A JSON Schema (2020-12) checker for the keywords our schemas use: type, const, enum,
/// properties, required, additionalProperties, items, minItems, minimum, pattern,
/// oneOf, anyOf and local `$ref`s ("#/$defs/name"). Returns every violation with its path.
public struct JSONSchema {
    let root: [String: Any]

    public init(contentsOf url: URL) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        root = object
    }

    /// The repository's schema file `Schemas/NAME`.
    public static func named(_ name: String, file: String = #filePath) throws -> JSONSchema {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return try JSONSchema(contentsOf: folder.appendingPathComponent("Schemas").appendingPathComponent(name))
    }

    /// Violations of the schema by `text` (JSON); empty when it conforms.
    public func violations(ofJSON text: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return ["$: not JSON"] }
        return violations(value, root, "$")
    }

    func violations(_ value: Any, _ schema: [String: Any], _ path: String) -> [String] {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.dropFirst("#/$defs/".count))
            guard let definitions = root["$defs"] as? [String: Any], let target = definitions[name] as? [String: Any] else {
                return ["\(path): unknown $ref \(reference)"]
            }
            return violations(value, target, path)
        }
        var found: [String] = []
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? ""]
            if !types.contains(where: { Self.matches(value, $0) }) { return ["\(path): expected \(types.joined(separator: " or ")), got \(Self.describe(value))"] }
        }
        if let constant = schema["const"], !Self.equal(constant, value) { found.append("\(path): expected \(constant)") }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            found.append("\(path): \(value) is not one of \(options)")
        }
        if let minimum = schema["minimum"] as? Double, let number = value as? NSNumber, number.doubleValue < minimum {
            found.append("\(path): \(number) < \(minimum)")
        }
        if let pattern = schema["pattern"] as? String, let text = value as? String, text.range(of: pattern, options: .regularExpression) == nil {
            found.append("\(path): '\(text)' does not match \(pattern)")
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { found.append("\(path): missing '\(key)'") }
            for (key, child) in object {
                if let propertySchema = properties[key] as? [String: Any] {
                    found += violations(child, propertySchema, "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if let allowed = additional as? Bool, !allowed { found.append("\(path): unexpected '\(key)'") }
                    if let additionalSchema = additional as? [String: Any] { found += violations(child, additionalSchema, "\(path).\(key)") }
                }
            }
        }
        if let array = value as? [Any] {
            if let minimum = schema["minItems"] as? Int, array.count < minimum { found.append("\(path): fewer than \(minimum) items") }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() { found += violations(item, items, "\(path)[\(index)]") }
            }
        }
        if let choices = schema["oneOf"] as? [[String: Any]] {
            let passing = choices.filter { violations(value, $0, path).isEmpty }.count
            if passing != 1 { found.append("\(path): matches \(passing) of oneOf's \(choices.count) schemas, not exactly one") }
        }
        if let choices = schema["anyOf"] as? [[String: Any]], !choices.contains(where: { violations(value, $0, path).isEmpty }) {
            found.append("\(path): matches none of anyOf")
        }
        return found
    }

    static func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return isBoolean(value)
        case "number": return value is NSNumber && !isBoolean(value)
        case "integer":
            guard let number = value as? NSNumber, !isBoolean(value) else { return false }
            return number.doubleValue == number.doubleValue.rounded()
        default: return false
        }
    }

    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c" || String(cString: number.objCType) == "B"
    }

    static func equal(_ lhs: Any, _ rhs: Any) -> Bool {
        if let a = lhs as? String, let b = rhs as? String { return a == b }
        if let a = lhs as? NSNumber, let b = rhs as? NSNumber { return a == b }
        return false
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: "null"
        case is String: "string"
        case is [Any]: "array"
        case is [String: Any]: "object"
        default: isBoolean(value) ? "boolean" : "number"
        }
    }
}
