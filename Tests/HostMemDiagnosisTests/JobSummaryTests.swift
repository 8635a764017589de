import Foundation
import HostMemDiagnosis
import HostMemProcess
import HostMemTestSupport
import Testing

/// What a window's summary takes from which sample.
struct JobSummaryTests {
    @Test("light samples of a known process read counters only; the summary takes threads and the command line from the samples that read them")
    func countersOnlyLightSamples() async throws {
        let pid = Int(getpid())
        let sampler = ProcessSampler(reader: ProcessReader(), rootPID: pid, interval: .milliseconds(500), duration: .seconds(2), clock: ManualClock())
        var recording = try await sampler.record()
        let snapshots = recording.samples.compactMap { $0.process(pid) }
        #expect(snapshots.count == 5)
        #expect(snapshots.dropFirst().dropLast().allSatisfy { $0.threadTimes.isEmpty && $0.commandLine.isEmpty && $0.status == nil && $0.io == nil },
                "the samples between the first and the last read no threads, command line, status or io")
        #expect(snapshots.allSatisfy { $0.scheduler != nil }, "every sample reads schedstat (the timeline's run delay)")
        let first = try #require(snapshots.first), last = try #require(snapshots.last)
        #expect(first.threadTimes[pid] != nil && !first.commandLine.isEmpty && last.threadTimes[pid] != nil && !last.commandLine.isEmpty)

        // The main thread busy for the whole window by the last sample's counters: busy,
        // though the light samples in between had no thread figures.
        let lastIndex = recording.samples.count - 1
        let processIndex = try #require(recording.samples[lastIndex].processes.firstIndex { $0.pid == pid })
        let seconds = Double(recording.samples[lastIndex].elapsedNanoseconds) / 1e9
        let base = first.threadTimes[pid]?.ticks ?? 0
        recording.samples[lastIndex].processes[processIndex].threadTimes[pid]?.ticks = base + UInt64(seconds * Double(recording.ticksPerSecond))
        let summary = try #require(JobSummary(recording: recording).processes.first { $0.pid == pid })
        #expect(summary.command == first.commandLine.joined(separator: " "))
        #expect(summary.busyThreads >= 1)

        // A process whose last appearance is a light sample (it exited mid-window) keeps
        // the command line and threads of its earlier samples.
        recording.samples.removeLast()
        let cut = try #require(JobSummary(recording: recording).processes.first { $0.pid == pid })
        #expect(cut.command == first.commandLine.joined(separator: " ") && cut.role == .main)
        // … and status figures from the last sample that read status (the first here).
        #expect(cut.statusResidentBytes != nil && cut.statusResidentBytes == first.status?.residentBytes)
        #expect(cut.allowedCPUs == first.status?.allowedCPUs && cut.allowedCPUs != nil)
    }
}
