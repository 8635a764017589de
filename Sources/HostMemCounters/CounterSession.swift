import HostMemPlatform
import HostMemTopology

/// What the counters say about a job over a window. The hardware and uncore groups are
/// `.unavailable` with the reason when they could not be counted.
public struct CounterSample: Sendable, Hashable, Codable {
    public var seconds: Double
    /// Scaled counts by event name ("task-clock" is in nanoseconds).
    public var counts: [String: Double]
    /// Core hardware events counted (cycles, instructions, cache events), or why none.
    public var hardware: Availability<[String]>
    /// Memory-controller PMUs counted ("uncore_imc_0", …), or why DRAM traffic is absent.
    public var uncore: Availability<[String]>

    public init(seconds: Double, counts: [String: Double], hardware: Availability<[String]>, uncore: Availability<[String]>) {
        self.seconds = seconds
        self.counts = counts
        self.hardware = hardware
        self.uncore = uncore
    }

    public func rate(_ name: String) -> Double? { counts[name].map { $0 / max(seconds, 1e-9) } }

    /// CPUs busy on average (task-clock ÷ wall time).
    public var cpusUsed: Double? { counts["task-clock"].map { $0 / 1e9 / max(seconds, 1e-9) } }
    public var instructionsPerCycle: Double? { ratio("instructions", "cycles") }
    public var l1dMissRatio: Double? { ratio("l1d-load-misses", "l1d-loads") }
    public var llcMissRatio: Double? { ratio("llc-load-misses", "llc-loads") }
    /// DRAM read + write bytes per second, all sockets (system-wide, not just the job).
    public var dramBytesPerSecond: Double? {
        guard counts["dram-read-bytes"] != nil || counts["dram-write-bytes"] != nil else { return nil }
        return ((counts["dram-read-bytes"] ?? 0) + (counts["dram-write-bytes"] ?? 0)) / max(seconds, 1e-9)
    }

    func ratio(_ numerator: String, _ denominator: String) -> Double? {
        guard let top = counts[numerator], let bottom = counts[denominator], bottom > 0 else { return nil }
        return top / bottom
    }
}

/// Opens the counters for a set of threads (or a process with inherit), reads them at
/// the start and the end of a window, and says plainly what could not be opened.
public final class CounterSession {
    private var events: [(event: CounterEvent, handle: PerfEvent)] = []
    private var start: [Int: PerfEvent.Reading] = [:]
    private var startTime: UInt64 = 0
    /// The hardware events opened, or why none; the memory-controller PMUs, or why none.
    private let hardware: Availability<[String]>
    private let uncore: Availability<[String]>

    /// Opens software and hardware events for each thread in `threads` (TIDs), with
    /// `inherit` so threads and processes they start later count too, and the DRAM
    /// events of the memory controllers system-wide. With `threads` empty the events
    /// are opened on the calling thread to count only the next command it spawns
    /// (enable-on-exec); read them after that command has been waited for.
    /// `software: false` leaves out the software events (task-clock, faults, switches):
    /// for a caller that judges only hardware ratios and DRAM traffic (the doctor), they
    /// would cost an open per event and thread, and the job bookkeeping at every switch.
    public init(threads: [Int], root: String = "/", software: Bool = true) {
        let forNextCommand = threads.isEmpty
        let threads = forNextCommand ? [0] : threads
        SystemInfo.raiseOpenFileLimit()
        let paranoid = Self.paranoid(root: root)
        let isRoot = SystemInfo.effectiveUserID == 0
        let excludeKernel = !isRoot && (paranoid ?? 2) >= 2
        var handles: [(CounterEvent, PerfEvent)] = []
        var firstHardwareError: SystemError?
        var hardwareUnavailable: String?
        for event in (software ? CounterEvent.software : []) + CounterEvent.hardware {
            if event.group == .hardware && firstHardwareError != nil { continue }
            for tid in threads {
                do throws(SystemError) {
                    let handle = try PerfEvent(event.kind, pid: Int32(tid), inherit: true, excludeKernel: excludeKernel,
                                               enableOnExec: forNextCommand)
                    handles.append((event, handle))
                } catch {
                    if event.group == .hardware { firstHardwareError = error; break }
                    // A thread that exited between listing and opening: skip it.
                }
            }
        }
        if let error = firstHardwareError {
            handles.removeAll { $0.0.group == .hardware }
            hardwareUnavailable = Self.reason(for: error, event: "cycles", paranoid: paranoid, systemWide: false)
        }
        let uncoreOpened = Self.openUncore(root: root, paranoid: paranoid)
        handles += uncoreOpened.handles.map { ($0.event, $0.handle) }
        events = handles
        let hardwareEvents = Array(Set(handles.filter { $0.0.group == .hardware }.map(\.0.name))).sorted()
        hardware = hardwareUnavailable.map { .unavailable(reason: $0) } ?? .available(hardwareEvents)
        uncore = uncoreOpened.unavailable.map { .unavailable(reason: $0) } ?? .available(uncoreOpened.pmus)
    }

    /// /proc/sys/kernel/perf_event_paranoid, or nil when unreadable.
    static func paranoid(root: String) -> Int? {
        (try? FileSystem.readText(atPath: root + "/proc/sys/kernel/perf_event_paranoid")).flatMap { Int($0.trimmingWhitespace()) }
    }

    /// The memory controllers' DRAM read and write events, system-wide: one open per
    /// PMU instance on its CPU. Returns the handles with that CPU, the PMUs counted, and
    /// why DRAM traffic cannot be counted when nothing opened.
    static func openUncore(root: String, paranoid: Int?) -> (handles: [(event: CounterEvent, handle: PerfEvent, cpu: Int)], pmus: [String], unavailable: String?) {
        let (pmus, names) = UncoreDiscovery(root: root).discover()
        if pmus.isEmpty {
            let present = names.isEmpty ? "none" : names.joined(separator: ", ")
            return ([], [], "no memory-controller PMU (uncore_imc_*, amd_umc_*, amd_df) in /sys/bus/event_source/devices (present: \(present))")
        }
        if pmus.allSatisfy({ $0.events.isEmpty }) {
            return ([], [], "\(pmus.map(\.name).joined(separator: ", ")) present, but without a CAS read/write event hostmem can encode")
        }
        var handles: [(event: CounterEvent, handle: PerfEvent, cpu: Int)] = []
        var counted: [String] = []
        var firstFailure: String?
        for pmu in pmus {
            var opened = false
            for spec in pmu.events {
                let event = CounterEvent(name: spec.isRead ? "dram-read-bytes" : "dram-write-bytes", group: .uncore,
                                         kind: .init(type: pmu.type, config: spec.config, config1: spec.config1), scale: spec.scale)
                for cpu in pmu.cpus {
                    do throws(SystemError) {
                        handles.append((event, try PerfEvent(event.kind, pid: -1, cpu: Int32(cpu), inherit: false, excludeKernel: false), cpu))
                        opened = true
                    } catch {
                        firstFailure = firstFailure ?? reason(for: error, event: "\(pmu.name)/\(spec.name)", paranoid: paranoid, systemWide: true)
                    }
                }
            }
            if opened { counted.append(pmu.name) }
        }
        return (handles, counted, handles.isEmpty ? firstFailure : nil)
    }

    /// One line: why an event could not be opened, and what to do.
    static func reason(for error: SystemError, event: String, paranoid: Int?, systemWide: Bool) -> String {
        if error.isUnsupported {
            return "no PMU exposed (perf_event_open(\(event)): \(error.reason)); usual in VMs without a virtual PMU"
        }
        if error.isPermissionDenied {
            let level = paranoid.map { "perf_event_paranoid is \($0)" } ?? "perf_event_paranoid"
            let needed = systemWide ? "system-wide events need root, CAP_PERFMON or perf_event_paranoid ≤ 0" : "run as the job's user or root, or lower it"
            return "refused (\(level); \(needed): sudo sysctl kernel.perf_event_paranoid=\(systemWide ? 0 : 1))"
        }
        return "perf_event_open(\(event)) failed: \(error.reason)"
    }

    /// Starts the window.
    public func begin() {
        start = [:]
        for (index, entry) in events.enumerated() {
            if let reading = try? entry.handle.read() { start[index] = reading }
        }
        startTime = MonotonicClock.nanoseconds()
    }

    /// Ends the window: scaled deltas summed by event name.
    public func end() -> CounterSample {
        let seconds = Double(MonotonicClock.nanoseconds() - startTime) / 1e9
        var counts: [String: Double] = [:]
        for (index, entry) in events.enumerated() {
            guard let before = start[index], let after = try? entry.handle.read() else { continue }
            let delta = PerfEvent.Reading(
                value: after.value &- min(after.value, before.value),
                enabledNanoseconds: after.enabledNanoseconds &- min(after.enabledNanoseconds, before.enabledNanoseconds),
                runningNanoseconds: after.runningNanoseconds &- min(after.runningNanoseconds, before.runningNanoseconds))
            if let scaled = delta.scaled { counts[entry.event.name, default: 0] += scaled * entry.event.scale }
        }
        return CounterSample(seconds: seconds, counts: counts, hardware: hardware, uncore: uncore)
    }

    /// Ends the window and starts the next one at the same instant: back-to-back
    /// windows over the same opened events.
    public func lap() -> CounterSample {
        let sample = end()
        begin()
        return sample
    }
}
