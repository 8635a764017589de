/// One measurement behind a finding, as values: what was measured (`metric`, from the
/// catalog), how much and in its unit, the threshold it crossed, where it was read, and
/// the process it concerns. Renderers turn these into sentences, tables, plots or
/// Prometheus samples; the rules never format text.
public struct Evidence: Sendable, Hashable, Codable {
    public var metric: Metric
    public var value: Value
    /// The metric's unit (`metric.unit`), kept in JSON for readers without the catalog.
    public var unit: Unit
    public var threshold: Threshold?
    /// The /proc or /sys file, perf event or tool the value came from.
    public var source: String
    public var pid: Int?
    /// Values measured together with this one (the numbers of the same sentence).
    public var context: [Measure]
    /// What the value is about, by name: a file path, a device, a role, a node list.
    public var labels: [Label: String]

    public init(metric: Metric, value: Value, threshold: Threshold? = nil, source: String, pid: Int? = nil,
                context: [Measure] = [], labels: [Label: String] = [:]) {
        self.metric = metric
        self.value = value
        self.unit = metric.unit
        self.threshold = threshold
        self.source = source
        self.pid = pid
        self.context = context
        self.labels = labels
    }

    /// A number.
    public init(_ metric: Metric, _ number: Double, threshold: Threshold? = nil, source: String, pid: Int? = nil,
                context: [Measure] = [], labels: [Label: String] = [:]) {
        self.init(metric: metric, value: .number(number), threshold: threshold, source: source, pid: pid,
                  context: context, labels: labels)
    }

    /// The value as a number; nil for a setting's text.
    public var number: Double? { value.number }

    /// A context value by metric, nil when the rule did not measure it.
    public func context(_ metric: Metric) -> Double? { context.first { $0.metric == metric }?.value }

    /// A context value by metric, nil when the rule did not measure it.
    public subscript(_ metric: Metric) -> Double? { context(metric) }

    /// A number or a setting's text ("never").
    public enum Value: Sendable, Hashable, Codable {
        case number(Double)
        case text(String)

        public var number: Double? {
            if case .number(let value) = self { return value }
            return nil
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            }
        }
    }

    /// Units in base form: bytes, not MiB; a ratio is 0…1, a percent 0…100.
    public enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        case bytes, bytesPerSecond = "bytes_per_second", percent, ratio, count, perSecond = "per_second", perMinute = "per_minute", seconds
        case microseconds, cpus, node, setting, kilobytes
    }

    /// The names a value is labelled with (its JSON keys): what a measurement is about.
    public enum Label: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable {
        case allowedCPUList = "allowed_cpu_list"
        case bindingLimit = "binding_limit"
        case command
        case cpuNodes = "cpu_nodes"
        case cpus
        case device
        case devices
        case function
        case gpu
        case gpus
        case libraries
        case node
        case nodes
        case packages
        case path
        case quotaCgroup = "quota_cgroup"
        case reason
        case role
        case scope
        case startMethod = "start_method"
        case thread
    }

    /// The value the measurement was compared with, and how.
    public struct Threshold: Sendable, Hashable, Codable {
        public enum Comparison: String, Sendable, Hashable, Codable {
            case greaterThan = ">", atLeast = ">=", lessThan = "<", atMost = "<="
        }

        public var value: Double
        public var comparison: Comparison

        public init(_ comparison: Comparison, _ value: Double) {
            self.value = value
            self.comparison = comparison
        }

        /// Whether `measured` crosses it.
        public func isCrossed(by measured: Double) -> Bool {
            switch comparison {
            case .greaterThan: measured > value
            case .atLeast: measured >= value
            case .lessThan: measured < value
            case .atMost: measured <= value
            }
        }
    }
}

/// A named number measured with an evidence item.
public struct Measure: Sendable, Hashable, Codable {
    public var metric: Metric
    public var value: Double
    /// The metric's unit (`metric.unit`).
    public var unit: Evidence.Unit
    public var labels: [Evidence.Label: String]?

    public init(_ metric: Metric, _ value: Double, labels: [Evidence.Label: String]? = nil) {
        self.metric = metric
        self.value = value
        self.unit = metric.unit
        self.labels = labels
    }
}

/// Checks the doctor could not run, and why: what was missing and the reason it was.
public struct NotJudged: Sendable, Hashable, Codable {
    public var checks: [RuleID]
    public var missing: Requirement
    public var reason: String

    public init(checks: [RuleID], missing: Requirement, reason: String) {
        self.checks = checks
        self.missing = missing
        self.reason = reason
    }
}
