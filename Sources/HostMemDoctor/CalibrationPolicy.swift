import HostMemBench
import HostMemDiagnosis
import HostMemPlatform
import HostMemTopology

/// Where the doctor's calibration comes from.
public enum CalibrationPolicy: Sendable, Hashable {
    /// The cache, else a quick calibration measured now (about 10 s) and saved.
    case cachedOrMeasure
    /// The cache only: measuring would disturb a job being watched.
    case cachedOnly
    /// None: a captured tree has no hardware to measure.
    case none(reason: String)

    /// Resolves the policy on `topology`; `progress` hears about a measurement before it starts.
    public func resolve(topology: Topology, store: CalibrationStore?, progress: (String) -> Void) -> (Calibration?, Availability<CalibrationHighlights>) {
        if case .none(let reason) = self { return (nil, .unavailable(reason: reason)) }
        let key = MachineKey.make(machine: BenchMachine(topology: topology))
        let lookup = store?.lookup(machineKey: key, acceptQuick: true)
        if let cached = lookup?.calibration, let store {
            return (cached, .available(CalibrationHighlights(cached, source: "\(cached.quick ? "quick" : "full"), cached in \(store.path)")))
        }
        let note = lookup?.note.map { " (\($0))" } ?? ""
        guard self == .cachedOrMeasure else {
            return (nil, .unavailable(reason: "none cached\(note); run 'hostmem bench --quick' when the machine is idle (not measured now: it would disturb the job)"))
        }
        do {
            progress("no calibration cached\(note); measuring one (about 10 s)…")
            let calibration = try CalibrationRun(scope: .quick, topology: topology).run()
            var saved = ""
            if let store {
                do {
                    try store.save(calibration)
                    saved = " and saved to \(store.path)"
                } catch {
                    saved = " (not saved: \(error))"
                }
            }
            return (calibration, .available(CalibrationHighlights(calibration, source: "quick, measured now\(saved)")))
        } catch {
            return (nil, .unavailable(reason: "could not be measured: \(error)"))
        }
    }
}
