import HostMemTopology

/// What a training job is called on a fleet, without its PID, command line or
/// environment: the Kubernetes pod and container, the container alone, the Slurm job,
/// or the process name, read from the job's cgroup paths (/proc/PID/cgroup).
public struct WorkloadIdentity: Sendable, Hashable, Codable, Comparable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case pod, container, slurm, process
    }

    public var kind: Kind
    /// The pod's UID with dashes ("5f1c…-…"), as the API server spells it.
    public var podUID: String?
    /// The container runtime's full ID (64 hex digits for Docker, containerd, CRI-O, Podman).
    public var containerID: String?
    public var slurmJobID: String?
    /// The pod's namespace and name and the container's name, where the kubelet's log
    /// folders name them (`named(by:)`); nil elsewhere.
    public var podNamespace: String?
    public var podName: String?
    public var containerName: String?
    /// The main process's name (/proc/PID/comm, at most 15 characters).
    public var processName: String
    /// Distinguishes jobs that would otherwise share a name (two bare `python` jobs on
    /// one node): 2, 3, … in the order the exporter found them; nil for the first.
    public var ordinal: Int?

    public init(kind: Kind, podUID: String? = nil, containerID: String? = nil, slurmJobID: String? = nil, processName: String, ordinal: Int? = nil) {
        self.kind = kind
        self.podUID = podUID
        self.containerID = containerID
        self.slurmJobID = slurmJobID
        self.processName = processName
        self.ordinal = ordinal
    }

    /// The `workload` label: "pod/NAMESPACE/POD/CONTAINER" where the kubelet names them,
    /// else "pod/UID/CONTAINER12"; "container/ID12", "slurm/JOBID" or "process/NAME"; with
    /// "#N" when `ordinal` is set.
    public var label: String {
        let base: String = switch kind {
        case .pod:
            if let podNamespace, let podName {
                "pod/\(podNamespace)/\(podName)" + ((containerName ?? containerID.map { String($0.prefix(12)) }).map { "/" + $0 } ?? "")
            } else {
                "pod/\(podUID ?? "")" + (containerID.map { "/" + $0.prefix(12) } ?? "")
            }
        case .container: "container/\(containerID?.prefix(12) ?? "")"
        case .slurm: "slurm/\(slurmJobID ?? "")"
        case .process: "process/\(processName)"
        }
        return ordinal.map { base + "#\($0)" } ?? base
    }

    /// This identity with the pod's namespace and name and the container's name from the
    /// kubelet's folders (by container ID, else by pod UID); unchanged where they are silent.
    public func named(by names: KubeletNames) -> WorkloadIdentity {
        guard kind == .pod else { return self }
        var named = self
        if let id = containerID, let container = names.containers[id] {
            named.podNamespace = container.pod.namespace
            named.podName = container.pod.name
            named.containerName = container.name
        } else if let uid = podUID, let pod = names.pods[uid] {
            named.podNamespace = pod.namespace
            named.podName = pod.name
        }
        return named
    }

    public static func < (a: WorkloadIdentity, b: WorkloadIdentity) -> Bool { a.label < b.label }

    /// Reads the identity from a process's cgroup paths (controller → path, as
    /// `CgroupSnapshot.paths` holds them) and its name. Kubernetes with the cgroupfs
    /// driver (`/kubepods/burstable/podUID/ID`) and the systemd driver
    /// (`kubepods-burstable-podUID_WITH_UNDERSCORES.slice/cri-containerd-ID.scope`),
    /// Docker (`/docker/ID`, `docker-ID.scope`), CRI-O (`crio-ID.scope`), Podman
    /// (`libpod-ID.scope`), Slurm (`/slurm/uid_N/job_N/…`, `job_N/step_N`).
    public static func from(cgroupPaths: [String: String], processName: String) -> WorkloadIdentity {
        // The unified path first (v2 and hybrid), then the v1 controllers in a fixed order.
        let ordered = cgroupPaths.sorted { rank($0.key) < rank($1.key) || (rank($0.key) == rank($1.key) && $0.key < $1.key) }
        for (_, path) in ordered {
            let parts = path.split(separator: "/").map(String.init)
            let pod = parts.lazy.compactMap(podUID(in:)).first
            let container = parts.reversed().lazy.compactMap(containerID(in:)).first
            if let pod { return WorkloadIdentity(kind: .pod, podUID: pod, containerID: container, processName: processName) }
            if let job = parts.lazy.compactMap(slurmJob(in:)).first {
                return WorkloadIdentity(kind: .slurm, slurmJobID: job, processName: processName)
            }
            if let container { return WorkloadIdentity(kind: .container, containerID: container, processName: processName) }
        }
        return WorkloadIdentity(kind: .process, processName: processName)
    }

    private static func rank(_ controller: String) -> Int {
        switch controller {
        case "unified", "": 0
        case "cpu", "cpu,cpuacct", "cpuacct,cpu": 1
        case "memory": 2
        default: 3
        }
    }

    /// "pod5f1c…" (cgroupfs) or "kubepods-burstable-pod5f1c…_….slice" (systemd).
    static func podUID(in component: String) -> String? {
        var text = Substring(component)
        if text.hasSuffix(".slice") { text = text.dropLast(6) }
        // The UID is the last 36 characters, after "pod".
        guard text.count >= 39, text.dropLast(36).hasSuffix("pod") else { return nil }
        let uid = String(text.suffix(36).map { $0 == "_" ? "-" : $0 })
        guard uid.allSatisfy({ $0.isHexDigit || $0 == "-" }), uid.filter({ $0 == "-" }).count == 4 else { return nil }
        return uid
    }

    /// A 64-hex-digit ID alone, or inside "docker-ID.scope", "cri-containerd-ID.scope",
    /// "crio-ID.scope", "libpod-ID.scope".
    static func containerID(in component: String) -> String? {
        var text = Substring(component)
        if text.hasSuffix(".scope") { text = text.dropLast(6) }
        if let dash = text.lastIndex(of: "-") { text = text[text.index(after: dash)...] }
        guard text.count == 64, text.allSatisfy(\.isHexDigit) else { return nil }
        return String(text)
    }

    /// "job_1234" → "1234".
    static func slurmJob(in component: String) -> String? {
        guard component.hasPrefix("job_") else { return nil }
        let id = component.dropFirst(4)
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? String(id) : nil
    }
}
