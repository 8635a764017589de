@testable import HostMemDoctor
import HostMemDiagnosis
import Testing

/// The sampler's arithmetic: back-off, unique names, PCI bus IDs as DCGM spells them.
struct FleetSamplerTests {
    typealias Sampler = FleetSampler<ContinuousClock>

    @Test("a slow memory walk doubles the window up to the maximum; a cheap one halves it back to the base")
    func backOff() {
        var options = FleetOptions()
        options.windowSeconds = 15
        options.maxWindowSeconds = 60
        options.walkShare = 0.01
        #expect(Sampler.nextWindow(after: 15, walkSeconds: 0.5, options: options) == 30)  // 3.3% of 15 s
        #expect(Sampler.nextWindow(after: 30, walkSeconds: 0.5, options: options) == 60)
        #expect(Sampler.nextWindow(after: 60, walkSeconds: 5, options: options) == 60)
        #expect(Sampler.nextWindow(after: 60, walkSeconds: 0.3, options: options) == 60)  // 0.5%: between a quarter and the share
        #expect(Sampler.nextWindow(after: 60, walkSeconds: 0.1, options: options) == 30)
        #expect(Sampler.nextWindow(after: 15, walkSeconds: 0.001, options: options) == 15)
        #expect(Sampler.nextWindow(after: 30, walkSeconds: nil, options: options) == 30)
    }

    @Test("two jobs with the same name get #2, #3; a name freed is reused")
    func uniqueNames() {
        let python = WorkloadIdentity(kind: .process, processName: "python")
        #expect(Sampler.unique(python, among: []).label == "process/python")
        let second = Sampler.unique(python, among: [python])
        #expect(second.label == "process/python#2")
        #expect(Sampler.unique(python, among: [python, second]).label == "process/python#3")
        #expect(Sampler.unique(python, among: [second]).label == "process/python")
    }

    @Test("PCI addresses in DCGM exporter's spelling", arguments: [
        ("0000:3b:00.0", "00000000:3B:00.0"), ("0001:c1:00.0", "00000001:C1:00.0"), ("3b:00.0", "00000000:3B:00.0"),
    ])
    func busID(address: String, expected: String) {
        #expect(Sampler.dcgmBusID(address) == expected)
    }
}
