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
    /// The rule that made it.
    public var id: RuleID
    public var severity: Severity
    public var title: String
    /// The measurements as values, each naming its source and the threshold it crossed.
    public var evidence: [Evidence]
    /// A concrete command or setting.
    public var fix: String
    /// Findings whose fixes come first: this one is their symptom (a loop waiting for
    /// data because its workers are starved of CPU). Most severe first.
    public var fixFirst: [RuleID]
    /// The values the fix asks for (workers, threads, node, bytes, settings).
    public var suggested: [Suggestion]
    /// What the fix should buy, predicted from the window; unbounded with the reason where
    /// the rule cannot say (`RuleID.unboundedReason`).
    public var gain: Gain
    /// The concept in one sentence.
    public var concept: String
    /// The processes it concerns, if any.
    public var pids: [Int]

    public init(id: RuleID, severity: Severity, title: String, evidence: [Evidence], fix: String, suggested: [Suggestion] = [],
                gain: Gain? = nil, concept: String, pids: [Int] = []) {
        self.id = id
        self.fixFirst = []
        self.suggested = suggested
        self.gain = gain ?? .unbounded(id.unboundedReason)
        self.severity = severity
        self.title = title
        self.evidence = evidence
        self.fix = fix
        self.concept = concept
        self.pids = pids
    }

    private enum CodingKeys: String, CodingKey {
        case id, severity, title, evidence, fix, fixFirst, suggested, gain, concept, pids
    }

    /// Reads reports saved before `fixFirst` and `suggested` existed as well.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(RuleID.self, forKey: .id)
        severity = try container.decode(Severity.self, forKey: .severity)
        title = try container.decode(String.self, forKey: .title)
        evidence = try container.decode([Evidence].self, forKey: .evidence)
        fix = try container.decode(String.self, forKey: .fix)
        fixFirst = try container.decodeIfPresent([RuleID].self, forKey: .fixFirst) ?? []
        suggested = try container.decodeIfPresent([Suggestion].self, forKey: .suggested) ?? []
        gain = try container.decodeIfPresent(Gain.self, forKey: .gain) ?? .unbounded("not predicted by the hostmem that wrote this report")
        concept = try container.decode(String.self, forKey: .concept)
        pids = try container.decode([Int].self, forKey: .pids)
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
