import HostMemProcess
import HostMemTestSupport
import HostMemTopology
import Testing
@testable import HostMemDiagnosis

/// Each finding's predicted gain follows from the numbers of its window.
struct GainTests {
    @Test("input-bound: a loop waiting w of its samples can go at most 1 ÷ (1 − w) as fast; per-sample fetching at most the machinery's share")
    func inputBound() throws {
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [process(1, .main), process(2, .worker)])
        var input = DiagnosisInput(topology: try JobRuleTests.topology(), job: job)
        input.pythonStacks = .available(PythonStacks.Analysis(waitingShare: 0.6, mainSamples: 100, perSampleShare: 0.5, workerSamples: 100,
                                                              perSampleOverheadShare: 0.4))
        let found = Diagnosis.run(input).findings
        let waiting = try #require(found.first { $0.id == .inputBound }?.gain)
        #expect(waiting.kind == .speed && waiting.costShare == 0.6 && waiting.speedupLow == 1)
        #expect(abs((waiting.speedupHigh ?? 0) - 2.5) < 1e-9)
        let perSample = try #require(found.first { $0.id == .perSampleFetching }?.gain)
        #expect(abs((perSample.speedupHigh ?? 0) - 1 / 0.6) < 1e-9, "min(1/(1−0.6), 1/(1−0.4))")
    }

    @Test("oversubscription: the main thread's run delay bounds it; copy-on-write predicts memory, not speed")
    func delayAndMemory() throws {
        let topology = try JobRuleTests.topology()
        var main = process(1, .main, cpuPercent: 60)
        main.runDelayPercent = 50
        main.cpuDemand = 1
        main.allowedCPUs = [0, 1]
        main.memoryLast = rollup(rss: 700 << 20, privateDirty: 600 << 20)
        var workers: [ProcessSummary] = []
        for pid in 2...4 {
            var worker = process(pid, .worker, cpuPercent: 90)
            worker.cpuDemand = 1
            worker.memoryFirst = rollup(rss: 400 << 20, privateDirty: 20 << 20)
            worker.memoryLast = rollup(rss: 400 << 20, privateDirty: 220 << 20)
            workers.append(worker)
        }
        let job = JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [main] + workers)
        let found = Diagnosis.run(DiagnosisInput(topology: topology, job: job)).findings
        let oversubscribed = try #require(found.first { $0.id == .workersOversubscribed }?.gain)
        #expect(oversubscribed.costShare == 0.5 && oversubscribed.speedupHigh == 2)
        let copies = try #require(found.first { $0.id == .copyOnWrite }?.gain)
        #expect(copies.kind == .memory && copies.bytes == Double(4 * (700 << 20)), "(3 workers + 1) × the main RSS")
        #expect(copies.speedupHigh == nil)

        // The pool's other threads waited too: its barrier waits for the slowest, so their
        // waits added up bound the fix; past the whole window, nothing bounds it.
        for (pool, high) in [(75.0, 4.0 as Double?), (120, nil), (50.2, 2)] {
            var starved = main
            starved.threadsRunDelayPercent = pool
            let again = Diagnosis.run(DiagnosisInput(topology: topology, job: JobSummary(rootPID: 1, seconds: 10, rootExited: false, processes: [starved] + workers))).findings
            let gain = try #require(again.first { $0.id == .workersOversubscribed }?.gain)
            #expect(gain.costShare == 0.5 && gain.speedupLow == 1, "pool \(pool)")
            if let high {
                #expect(abs((gain.speedupHigh ?? 0) - high) < 1e-9, "pool \(pool): \(gain.model)")
            } else {
                #expect(gain.speedupHigh == nil && gain.model.contains("no upper bound"), "pool \(pool)")
            }
            #expect(pool <= 50.5 || gain.model.contains("slowest thread"))
        }
    }

    @Test("a rule without a model says why, and every speed range over the sweep is 1 ≤ low ≤ high, its cost a share")
    func ranges() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        var speeds = 0
        for variant in EvidenceAgreementTests.sweep() {
            for finding in Diagnosis.run(variant.input(topology: topology)).findings {
                let gain = finding.gain
                #expect(!gain.model.isEmpty)
                guard gain.kind == .speed else { continue }
                speeds += 1
                let low = try #require(gain.speedupLow)
                guard let high = gain.speedupHigh else {
                    // No upper bound only where a thread cut is suggested beside a noisy neighbour.
                    #expect(finding.suggested.contains { $0.setting == .mainThreads } && gain.model.contains("no upper bound"), "\(finding.id)")
                    continue
                }
                #expect(low >= 1 && high >= low, "\(finding.id): \(low)–\(high)")
                // The cost's own bound, except where the model bounds it by more than the cost (the
                // oversubscribed pool's waits added up) or by less (per-sample machinery).
                if let cost = gain.costShare {
                    #expect(cost >= 0 && cost < 1 && abs(high - 1 / (1 - cost)) < 1e-9 || finding.id == .perSampleFetching
                                || (finding.id == .workersOversubscribed && high > 1 / (1 - cost)))
                }
            }
        }
        #expect(speeds > 100)
        #expect(Finding(id: .thpDisabled, severity: .warning, title: "", evidence: [], fix: "", concept: "").gain.model == RuleID.thpDisabled.unboundedReason)
    }

    @Test("beside a noisy neighbour, a fix that cuts threads has no upper bound: the pool's barrier stalls are not measured")
    func neighbourUnbounded() throws {
        let topology = try TopologyReader(root: try SyntheticMachine.twoCPUs.write()).read()
        let variant = DiagnosisInput.Variant(demand: 0.8, delay: 45, neighbourPercent: 100, growthMiB: 0, rssGrowthMiB: 0, waiting: 0.1, overhead: 0.05)
        let found = Diagnosis.run(variant.input(topology: topology)).findings
        let neighbour = try #require(found.first { $0.id == .noisyNeighbour })
        #expect(neighbour.gain.speedupHigh == nil && neighbour.gain.speedupLow == 1 && neighbour.gain.model.contains("barrier"))
    }

    @Test("a measured speed-up is within the range, with the tolerance for the noise of two runs")
    func contains() {
        let gain = Gain.speed(costShare: 0.5, model: "")
        #expect(gain.contains(speedup: 1.0) && gain.contains(speedup: 2.0) && gain.contains(speedup: 2.09))
        #expect(!gain.contains(speedup: 2.2) && !gain.contains(speedup: 0.9))
        #expect(!Gain.memory(bytes: 1, model: "").contains(speedup: 1))
        let open = gain.unboundedAbove(because: "barriers")
        #expect(open.speedupHigh == nil && open.contains(speedup: 14) && !open.contains(speedup: 0.8) && open.model.hasSuffix("; barriers"))
    }
}
