/// Where the pages of a range of this process's memory are, page by page from the
/// kernel (`move_pages` with no target nodes), and the range's policy
/// (`get_mempolicy(MPOL_F_ADDR)`): the check that a buffer bound to a node is on it.
public struct PagePlacement: Codable, Sendable, Hashable {
    /// Pages asked about: every page of the range, or an even sample of at most
    /// `maximumSamples` pages of a larger one.
    public var pagesChecked: Int
    /// Of those, how many are on each node.
    public var pagesByNode: [Int: Int]
    /// Of those, how many are not in memory yet (never touched, or swapped out).
    public var pagesNotPresent: Int
    /// The policy at the range's first page: "bind", "interleave", "preferred", "local"
    /// or "default", and its nodes.
    public var policy: String
    public var policyNodes: [Int]

    public init(pagesChecked: Int, pagesByNode: [Int: Int], pagesNotPresent: Int, policy: String, policyNodes: [Int]) {
        self.pagesChecked = pagesChecked
        self.pagesByNode = pagesByNode
        self.pagesNotPresent = pagesNotPresent
        self.policy = policy
        self.policyNodes = policyNodes
    }

    public static let maximumSamples = 16_384

    /// Pages of those checked that are on `node`.
    public func pages(onNode node: Int) -> Int { pagesByNode[node] ?? 0 }

    /// Reads the placement of `span`: each page when it has at most `maximumSamples`,
    /// else that many pages spread evenly over it.
    public static func of(_ span: RawSpan) throws(SystemError) -> PagePlacement {
        let page = Int(SystemInfo.pageSize)
        let start = Int(bitPattern: span.base) / page * page
        let pages = (Int(bitPattern: span.base) + span.count - start + page - 1) / page
        guard pages > 0 else { return PagePlacement(pagesChecked: 0, pagesByNode: [:], pagesNotPresent: 0, policy: "default", policyNodes: []) }
        let step = max(1, (pages + maximumSamples - 1) / maximumSamples)
        let samples = stride(from: 0, to: pages, by: step).map { UnsafeRawPointer(bitPattern: start + $0 * page)! }
        var byNode: [Int: Int] = [:]
        var absent = 0
        for node in try MemoryPolicy.nodes(ofPages: samples) {
            if node >= 0 { byNode[node, default: 0] += 1 } else { absent += 1 }
        }
        let policy = try MemoryPolicy.policy(at: UnsafeRawPointer(span.base))
        return PagePlacement(pagesChecked: samples.count, pagesByNode: byNode, pagesNotPresent: absent,
                             policy: "\(policy.mode)", policyNodes: policy.nodes)
    }

    /// Binds the whole pages inside `span` to `node` (`MPOL_BIND`), moving those already
    /// present there (`MPOL_MF_MOVE`: pages shared with another process stay), then reads
    /// where they are. The part of a page at either end that is shared with memory
    /// outside the span is left alone.
    public static func move(_ span: RawSpan, toNode node: Int) throws(SystemError) -> PagePlacement {
        let page = Int(SystemInfo.pageSize)
        let first = (Int(bitPattern: span.base) + page - 1) / page * page
        let end = (Int(bitPattern: span.base) + span.count) / page * page
        guard end > first, let base = UnsafeMutableRawPointer(bitPattern: first) else { return try of(span) }
        let inner = RawSpan(base: base, count: end - first)
        try MemoryPolicy.bind(inner, toNodes: [node], moveExisting: true)
        return try of(inner)
    }
}

extension PagePlacement: CustomStringConvertible {
    /// "64/64 pages on node 1 (policy bind 1)", or per node when spread.
    public var description: String {
        let present = pagesByNode.sorted { $0.key < $1.key }
        let nodes = present.count == 1 ? "\(present[0].value)/\(pagesChecked) pages on node \(present[0].key)"
            : present.isEmpty ? "0/\(pagesChecked) pages in memory"
            : present.map { "node \($0.key): \($0.value)" }.joined(separator: ", ") + " of \(pagesChecked) pages"
        let absent = pagesNotPresent > 0 && !present.isEmpty ? ", \(pagesNotPresent) not in memory" : ""
        let policyText = policyNodes.isEmpty ? policy : "\(policy) \(policyNodes.map(String.init).joined(separator: ","))"
        return nodes + absent + " (policy \(policyText))"
    }
}
