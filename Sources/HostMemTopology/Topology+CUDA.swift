import HostMemPlatform

/// "GPU N", decided once for the CLI, the C ABI and Python: CUDA's numbering.
extension Topology {
    /// The GPUs CUDA numbers 0, 1, …: NVIDIA GPUs (and, in a captured tree without vendor
    /// files, every GPU) in PCI bus order, as with `CUDA_DEVICE_ORDER=PCI_BUS_ID` and as
    /// nvidia-smi lists them; then, when `CUDA_VISIBLE_DEVICES` is set (`visibleDevices`),
    /// the devices it names in its order, by index into that list or by UUID (`GPU-…`, a
    /// unique prefix is enough; `uuids` maps PCI address to UUID). As CUDA does, the list
    /// ends at the first entry that names no device (or one named before); "" shows none.
    /// Display-only VGA (a BMC's, a VM's) is never in it.
    public func cudaGPUs(visibleDevices: String?, uuids: [String: String] = [:]) -> [PCIDevice] {
        let ordered = gpus.filter { $0.vendorID == nil || $0.vendorID == 0x10de }.sorted { $0.pciAddress < $1.pciAddress }
        guard let visibleDevices else { return ordered }
        var chosen: [PCIDevice] = []
        for entry in visibleDevices.split(separator: ",", omittingEmptySubsequences: false) {
            let name = entry.trimmingSpaces
            var device: PCIDevice?
            if let index = Int(name) {
                device = index >= 0 && index < ordered.count ? ordered[index] : nil
            } else if name.hasPrefix("GPU-") {
                let matches = ordered.filter { uuids[$0.pciAddress.lowercased()].map { $0.lowercased().hasPrefix(name.lowercased()) } == true }
                device = matches.count == 1 ? matches[0] : nil
            }
            guard let device, !chosen.contains(device) else { break }
            chosen.append(device)
        }
        return chosen
    }

    /// CUDA's GPU `index` on this machine as the current process sees it (its
    /// `CUDA_VISIBLE_DEVICES`, the UUIDs from `reader`), or why there is none, in one
    /// sentence: the one lookup behind `hostmem loader --gpu`, the C ABI and Python.
    public func cudaGPU(_ index: Int, reader: TopologyReader) -> Result<PCIDevice, GPUNotFound> {
        let visible = FileSystem.environmentValue("CUDA_VISIBLE_DEVICES"), uuids = reader.nvidiaUUIDs()
        let gpus = cudaGPUs(visibleDevices: visible, uuids: uuids)
        guard index >= 0 && index < gpus.count else {
            return .failure(GPUNotFound(message: missingCUDAGPU(index, visibleDevices: visible, uuids: uuids)))
        }
        return .success(gpus[index])
    }

    /// Why `cudaGPUs` has no GPU `index`, in one sentence naming what there is.
    public func missingCUDAGPU(_ index: Int, visibleDevices: String?, uuids: [String: String] = [:]) -> String {
        let visible = cudaGPUs(visibleDevices: visibleDevices, uuids: uuids)
        var text = "no GPU \(index): CUDA sees \(visible.count) here"
        if !visible.isEmpty { text += " (" + visible.map(\.pciAddress).joined(separator: ", ") + ")" }
        if let visibleDevices { text += " with CUDA_VISIBLE_DEVICES=\"\(visibleDevices)\"" }
        if !displays.isEmpty {
            text += "; not GPUs: " + displays.map { "\($0.vendor) \($0.className) \($0.pciAddress)" }.joined(separator: ", ") + " (display only)"
        }
        return text
    }
}

/// No such GPU, with the sentence that says what there is.
public struct GPUNotFound: Error, Sendable {
    public let message: String
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
