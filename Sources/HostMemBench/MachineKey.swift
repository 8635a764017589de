import HostMemPlatform
import HostMemTopology

/// A short stable identifier of a machine's hardware as the benchmarks see it, so a
/// cached calibration is reused only on the machine (and cgroup) that measured it.
public enum MachineKey {
    /// "AMD EPYC 9R14 96-Core Processor|cpus=0-1|L1d=32768x2,L2=1048576x2,L3=33554432x1|nodes=0"
    /// hashed to 16 hex digits (FNV-1a), with the CPU model read from /proc/cpuinfo.
    public static func make(machine: BenchMachine, cpuinfo: String? = try? FileSystem.readText(atPath: "/proc/cpuinfo")) -> String {
        let model = cpuinfo.flatMap(modelName) ?? "unknown CPU"
        let caches = machine.caches.map { "\($0.name)=\($0.sizeBytes)x\($0.instances)" }.joined(separator: ",")
        let nodes = machine.nodes.map { "\($0.node):\($0.cpus.count)" }.joined(separator: ",")
        let text = "\(model)|cpus=\(machine.cpus.map(String.init).joined(separator: ","))|\(caches)|nodes=\(nodes)"
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The CPU model when the CPU is emulated instruction by instruction (QEMU's TCG:
    /// "QEMU TCG CPU version 2.5+"), where every time measured is the emulator's; nil on
    /// hardware and under hardware virtualisation (KVM, whose guests show the host's model).
    public static func emulatedCPU(cpuinfo: String? = try? FileSystem.readText(atPath: "/proc/cpuinfo")) -> String? {
        guard let model = cpuinfo.flatMap(modelName), model.contains("TCG") else { return nil }
        return model
    }

    /// The first "model name" (x86) or "Model"/"CPU part" (Arm) line of /proc/cpuinfo.
    static func modelName(_ cpuinfo: String) -> String? {
        for key in ["model name", "Model", "CPU part"] {
            for line in cpuinfo.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingWhitespace() == key {
                    return parts[1].trimmingWhitespace()
                }
            }
        }
        return nil
    }
}
