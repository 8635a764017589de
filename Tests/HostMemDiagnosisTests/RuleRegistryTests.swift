import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemDiagnosis

/// The registry is the one list of rules: each id once, and "Not judged" is exactly the
/// rules whose needs the input did not meet.
struct RuleRegistryTests {
    @Test("every rule id is registered once")
    func registeredOnce() {
        #expect(Rule.all.map(\.id).sorted() == RuleID.allCases.sorted())
    }

    @Test("with a job and every optional source missing, each rule that needs one is not judged, with the reason of its first unmet need")
    func notJudgedFollowsTheNeeds() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main), process(2, .worker)])
        let input = DiagnosisInput(topology: topology, job: job, counters: .unavailable(reason: "perf_event_paranoid is 4"),
                                   pythonStacks: .unavailable(reason: "py-spy not found"), cgroup: .unavailable(reason: "no cgroup mount"))
        let diagnosis = Diagnosis.run(input)
        let expected = Rule.all.filter { rule in rule.needs.contains { input.absence(of: $0) != nil } }
        #expect(Set(diagnosis.notJudged.flatMap(\.checks)) == Set(expected.map(\.id)))
        for rule in expected {
            let (missing, reason) = try #require(rule.needs.lazy.compactMap(input.absence).first)
            #expect(diagnosis.notJudged.contains { $0.checks.contains(rule.id) && $0.missing == missing && $0.reason == reason }, "\(rule.id)")
        }
        // The needs this input lacks, each said once, in the order of Requirement.
        #expect(diagnosis.notJudged.map(\.missing) == [.counters, .pythonStacks, .machineLoad, .cgroup, .numaNodes])
        #expect(diagnosis.findings.allSatisfy { finding in !expected.contains { $0.id == finding.id } })
    }

    @Test("without a job, the job's checks are not listed as not judged, but a missing counter still is")
    func noJobNoJobChecks() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        let diagnosis = Diagnosis.run(DiagnosisInput(topology: topology))
        let listed = Set(diagnosis.notJudged.flatMap(\.checks))
        #expect(!listed.contains(.inputBound) && !listed.contains(.cpuQuotaThrottled) && !listed.contains(.noisyNeighbour))
        #expect(listed.contains(.cacheThrashing) && listed.contains(.dramBandwidthSaturated))
    }
}
