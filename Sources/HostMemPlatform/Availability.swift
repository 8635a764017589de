/// A value that may be missing for a reason the user should see: a PMU, uncore
/// counters, a GPU, py-spy, a calibration. Absence is never shown as zero.
///
/// JSON: `{"available": VALUE}` or `{"unavailable": "reason"}`.
public enum Availability<Value> {
    case available(Value)
    case unavailable(reason: String)

    /// The value, or nil when unavailable.
    public var value: Value? {
        if case .available(let value) = self { return value }
        return nil
    }

    /// Why it is missing, or nil when available.
    public var reason: String? {
        if case .unavailable(let reason) = self { return reason }
        return nil
    }

    /// The value transformed, the reason kept.
    public func map<T>(_ transform: (Value) throws -> T) rethrows -> Availability<T> {
        switch self {
        case .available(let value): .available(try transform(value))
        case .unavailable(let reason): .unavailable(reason: reason)
        }
    }
}

extension Availability: Sendable where Value: Sendable {}
extension Availability: Equatable where Value: Equatable {}
extension Availability: Hashable where Value: Hashable {}

extension Availability: Codable where Value: Codable {
    private enum CodingKeys: String, CodingKey { case available, unavailable }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let reason = try container.decodeIfPresent(String.self, forKey: .unavailable) {
            self = .unavailable(reason: reason)
        } else {
            self = .available(try container.decode(Value.self, forKey: .available))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .available(let value): try container.encode(value, forKey: .available)
        case .unavailable(let reason): try container.encode(reason, forKey: .unavailable)
        }
    }
}
