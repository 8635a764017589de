/// A PCI device that matters for feeding accelerators, `/sys/bus/pci/devices/ADDR`.
public struct PCIDevice: Sendable, Codable, Hashable {
    /// `domain:bus:device.function`, e.g. `0000:17:00.0`.
    public var pciAddress: String
    /// The class code's upper 16 bits (`class` >> 8), e.g. 0x0302 for a 3D controller.
    public var classCode: Int
    /// The vendor's name (NVIDIA, AMD, Intel, …) or its hex ID, "unknown" when absent.
    public var vendor: String
    /// `vendor`, when present.
    public var vendorID: Int?
    /// `device`, when present.
    public var deviceID: Int?
    /// `numa_node`; nil when the kernel does not know (-1) or the file is absent.
    public var numaNode: Int?
    /// `local_cpulist` (or `local_cpus`); nil when absent.
    public var localCPUs: [Int]?
    /// The bound driver's name (`driver` link), when there is one.
    public var driver: String?

    public init(
        pciAddress: String, classCode: Int, vendor: String, vendorID: Int?, deviceID: Int?,
        numaNode: Int?, localCPUs: [Int]?, driver: String?
    ) {
        self.pciAddress = pciAddress
        self.classCode = classCode
        self.vendor = vendor
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.numaNode = numaNode
        self.localCPUs = localCPUs
        self.driver = driver
    }

    /// What the class code says the device is: "VGA", "3D", "Ethernet", "InfiniBand", "NVMe".
    public var className: String {
        switch classCode {
        case 0x0300: "VGA"
        case 0x0302: "3D"
        case 0x0200: "Ethernet"
        case 0x0207: "InfiniBand"
        case 0x0108: "NVMe"
        case 0x1200: "accelerator"
        case 0x0380: "display"
        default: hex4(classCode)
        }
    }

    /// Whether this is a display controller and no more: a BMC's or a virtual machine's VGA
    /// (ASPEED, Matrox, QEMU's stdvga, virtio-gpu, Cirrus, VMware, Red Hat QXL, Hyper-V), or
    /// any VGA-class device of a vendor other than NVIDIA and AMD (an integrated graphics
    /// core). It drives a console, not CUDA or ROCm: not a GPU for hostmem. A device whose
    /// vendor is unknown (a captured tree without the file) is taken as a GPU.
    public var isDisplayOnly: Bool {
        guard let vendorID else { return false }
        switch classCode {
        case 0x0300: return !Self.computeGPUVendors.contains(vendorID)
        case 0x0302, 0x0380: return Self.displayVendors.contains(vendorID)
        default: return false
        }
    }

    /// Vendors whose VGA-class devices may be compute GPUs (GeForce and some data-center
    /// NVIDIA boards, Radeon and older Instinct boards show as VGA).
    static let computeGPUVendors: Set<Int> = [0x10de, 0x1002]
    /// Vendors whose display controllers are consoles only, whatever their class.
    static let displayVendors: Set<Int> = [0x1a03, 0x102b, 0x1234, 0x1af4, 0x1013, 0x15ad, 0x1b36, 0x1414]

    /// Vendor names for the IDs that appear on GPU servers.
    public static func vendorName(_ id: Int) -> String? {
        switch id {
        case 0x10de: "NVIDIA"
        case 0x1002: "AMD"
        case 0x8086: "Intel"
        case 0x15b3: "Mellanox"
        case 0x14e4: "Broadcom"
        case 0x1077: "QLogic"
        case 0x1924: "Solarflare"
        case 0x144d: "Samsung"
        case 0x1e0f: "KIOXIA"
        case 0x1c5c: "SK hynix"
        case 0x8384: "Micron"
        case 0x1344: "Micron"
        case 0x1af4: "virtio"
        case 0x1d0f: "Amazon"
        case 0x1ae0: "Google"
        case 0x1414: "Microsoft"
        case 0x1a03: "ASPEED"
        case 0x102b: "Matrox"
        case 0x1234: "QEMU"
        case 0x1013: "Cirrus"
        case 0x15ad: "VMware"
        case 0x1b36: "Red Hat"
        case 0x1da3: "Habana"
        default: nil
        }
    }
}

/// "0x0302": a 16-bit ID or class code as lspci and sysfs write it.
func hex4(_ value: Int) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

extension PCIDevice {
    /// Unknown values are written as `null`, so every key of the JSON contract is present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pciAddress, forKey: .pciAddress)
        try container.encode(classCode, forKey: .classCode)
        try container.encode(vendor, forKey: .vendor)
        try container.encode(vendorID, forKey: .vendorID)
        try container.encode(deviceID, forKey: .deviceID)
        try container.encode(numaNode, forKey: .numaNode)
        try container.encode(localCPUs, forKey: .localCPUs)
        try container.encode(driver, forKey: .driver)
    }
}
