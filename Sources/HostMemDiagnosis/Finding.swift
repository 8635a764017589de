/// How bad a finding is. Findings are ranked critical, warning, info.
public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case info, warning, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One thing the doctor found: what, the numbers that show it, the fix, and the idea
/// behind it in one sentence.
public struct Finding: Sendable, Hashable, Codable {
    /// A stable identifier, e.g. "workers-oversubscribed".
    public var id: String
    public var severity: Severity
    public var title: String
    /// The measurements as values, each naming its source and the threshold it crossed.
    public var evidence: [Evidence]
    /// A concrete command or setting.
    public var fix: String
    /// The concept in one sentence.
    public var concept: String
    /// The processes it concerns, if any.
    public var pids: [Int]

    public init(id: String, severity: Severity, title: String, evidence: [Evidence], fix: String, concept: String, pids: [Int] = []) {
        self.id = id
        self.severity = severity
        self.title = title
        self.evidence = evidence
        self.fix = fix
        self.concept = concept
        self.pids = pids
    }
}

extension Array where Element == Finding {
    /// Most severe first; within a severity, in rule order.
    public func ranked() -> [Finding] {
        enumerated().sorted { lhs, rhs in
            lhs.element.severity != rhs.element.severity ? lhs.element.severity > rhs.element.severity : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
