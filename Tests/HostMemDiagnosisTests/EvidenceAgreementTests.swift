import HostMemPlatform
import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemDiagnosis

/// Severity means cost, and a finding says nothing its numbers do not: over a sweep of
/// jobs around every rule's thresholds, each warning or critical finding's evidence that
/// names a threshold has crossed it (the title "more threads than CPUs" over "2 threads,
/// threshold > 2" was such a contradiction).
struct EvidenceAgreementTests {
    /// Jobs of two CPUs around the thresholds: CPU demand, run delay, neighbours, memory
    /// growth, Python stacks.
    static func sweep() -> [DiagnosisInput.Variant] {
        var variants: [DiagnosisInput.Variant] = []
        for demand in [0.8, 2.0, 2.2, 2.3, 3.0, 5.0] {
            for delay in [0.0, 9.0, 10.0, 25.0, 45.0] {
                for neighbour in [0.0, 20.0, 30.0, 100.0] {
                    for growth: UInt64 in [0, 4, 9, 31, 33, 200] {
                        for waiting in [0.1, 0.35, 0.8] {
                            variants.append(.init(demand: demand, delay: delay, neighbourPercent: neighbour, growthMiB: growth,
                                                  rssGrowthMiB: growth == 200 ? 180 : 0, waiting: waiting, overhead: waiting / 2))
                        }
                    }
                }
            }
        }
        return variants
    }

    @Test("every warning or critical finding's thresholded evidence crosses its threshold, over a sweep of jobs")
    func thresholdsCrossed() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var judged = 0
        var seen = Set<RuleID>()
        for variant in Self.sweep() {
            let diagnosis = Diagnosis.run(variant.input(topology: topology))
            for finding in diagnosis.findings {
                seen.insert(finding.id)
                guard finding.severity >= .warning else { continue }
                for item in finding.evidence {
                    guard let threshold = item.threshold, let value = item.value.number else { continue }
                    judged += 1
                    #expect(threshold.isCrossed(by: value), "\(finding.id) (\(finding.severity)): \(item.metric) = \(value) against \(threshold.comparison.rawValue) \(threshold.value), \(variant)")
                }
            }
        }
        #expect(judged > 100)
        // The sweep reaches the rules it is about.
        #expect(seen.isSuperset(of: [.workersOversubscribed, .noisyNeighbour, .copyOnWrite, .inputBound, .perSampleFetching]), "\(seen)")
    }
}

extension EvidenceAgreementTests {
    @Test("the numbers a fix names in words are its suggested values, and each suggested count is in its words, over the sweep")
    func suggestedValuesMatchTheFix() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var checked = 0
        for variant in Self.sweep() {
            for finding in Diagnosis.run(variant.input(topology: topology)).findings {
                let problems = Self.disagreements(finding)
                #expect(problems.isEmpty, "\(finding.id): \(problems); fix: \(finding.fix); \(variant)")
                checked += finding.suggested.count
            }
        }
        #expect(checked > 100)
    }

    /// Where a finding's prose and its suggested values part ways.
    static func disagreements(_ finding: Finding) -> [String] {
        func numbers(_ pattern: String) -> [Int] {
            let regex = try! Regex(pattern)
            return finding.fix.matches(of: regex).compactMap { match in
                let text = finding.fix[match.range]
                return text.hasPrefix("keep ") ? nil : Int(text.filter(\.isNumber))
            }
        }
        func suggested(_ settings: Suggestion.Setting...) -> Set<Int> {
            Set(finding.suggested.filter { settings.contains($0.setting) }.compactMap { $0.value.number.map { Int($0) } })
        }
        var problems: [String] = []
        // "keep num_workers=N" names the current value, not a change.
        let workers = Set(numbers("(keep )?num_workers=[0-9]+"))
        if workers != suggested(.numWorkers) { problems.append("num_workers \(workers.sorted()) in words, \(suggested(.numWorkers).sorted()) suggested") }
        let threads = Set(numbers("set_num_threads\\([0-9]+\\)"))
        if !threads.isSubset(of: suggested(.mainThreads, .workerThreads)) || !suggested(.mainThreads).isSubset(of: threads) {
            problems.append("threads \(threads.sorted()) in words, \(suggested(.mainThreads, .workerThreads).sorted()) suggested")
        }
        let nodes = Set(numbers("--cpunodebind=[0-9]+"))
        if nodes != suggested(.numaNode) { problems.append("node \(nodes.sorted()) in words, \(suggested(.numaNode).sorted()) suggested") }
        return problems
    }
}

extension DiagnosisInput {
    /// One job of the sweep: a main process and one forked worker on two CPUs.
    struct Variant: CustomStringConvertible {
        var demand: Double
        var delay: Double
        var neighbourPercent: Double
        var growthMiB: UInt64
        var rssGrowthMiB: UInt64
        var waiting: Double
        var overhead: Double

        var description: String {
            "demand \(demand), delay \(delay)%, neighbour \(neighbourPercent)%, growth \(growthMiB) MiB (RSS +\(rssGrowthMiB)), waiting \(waiting)"
        }

        func input(topology: Topology) -> DiagnosisInput {
            var main = process(1, .main, cpuPercent: 60)
            main.runDelayPercent = delay
            main.cpuDemand = min(demand, 1.5)
            main.allowedCPUs = [0, 1]
            main.memoryLast = rollup(rss: 700 << 20, privateDirty: 600 << 20)
            var worker = process(2, .worker, cpuPercent: 90)
            worker.cpuDemand = demand - min(demand, 1.5)
            worker.memoryFirst = rollup(rss: 400 << 20, privateDirty: 20 << 20)
            worker.memoryLast = rollup(rss: (400 + rssGrowthMiB) << 20, privateDirty: (20 + growthMiB) << 20)
            let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main, worker])
            var input = DiagnosisInput(topology: topology, job: job)
            input.neighbours = .available(neighbourPercent > 0 ? [Neighbour(pid: 50, command: "other", cpuPercent: neighbourPercent, allowedCPUs: [0, 1])] : [])
            input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: waiting, mainSamples: 100, perSampleShare: overhead * 1.5,
                                                                  workerSamples: 100, perSampleOverheadShare: overhead))
            return input
        }
    }
}
