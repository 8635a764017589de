import HostMemPlatform

/// The names Kubernetes gives the pods and containers on this node, read without the API
/// server from the kubelet's log folders, which every container runtime behind the CRI
/// writes: `/var/log/pods/NAMESPACE_POD_UID/` and
/// `/var/log/containers/POD_NAMESPACE_CONTAINER-ID.log`. Namespaces, pod and container
/// names cannot hold "_" (DNS labels and subdomains), so the parts split cleanly. Empty
/// where the folders are absent (not a Kubernetes node, or not mounted into the exporter's
/// pod).
public struct KubeletNames: Sendable, Hashable {
    public struct Pod: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    public struct Container: Sendable, Hashable {
        public var pod: Pod
        public var name: String
        public init(pod: Pod, name: String) {
            self.pod = pod
            self.name = name
        }
    }

    /// By the pod's UID ("5f1c…-…", with dashes).
    public var pods: [String: Pod] = [:]
    /// By the container's full ID (64 hex digits).
    public var containers: [String: Container] = [:]

    public init(pods: [String: Pod] = [:], containers: [String: Container] = [:]) {
        self.pods = pods
        self.containers = containers
    }

    /// Reads both folders under `root` ("/" here, "/host" in the DaemonSet's pod).
    public static func read(root: String = "/") -> KubeletNames {
        let tree = SystemTree(root: root)
        var names = KubeletNames()
        if case .success(let folders) = tree.entries("var/log/pods") {
            for folder in folders {
                if let (uid, pod) = podFolder(folder.name) { names.pods[uid] = pod }
            }
        }
        if case .success(let logs) = tree.entries("var/log/containers") {
            for log in logs {
                if let (id, container) = containerLog(log.name) { names.containers[id] = container }
            }
        }
        return names
    }

    /// "NAMESPACE_POD_UID" → (UID, pod).
    static func podFolder(_ name: String) -> (String, Pod)? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].count == 36,
              parts[2].allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        return (parts[2], Pod(namespace: parts[0], name: parts[1]))
    }

    /// "POD_NAMESPACE_CONTAINER-ID.log" → (ID, container).
    static func containerLog(_ name: String) -> (String, Container)? {
        guard name.hasSuffix(".log") else { return nil }
        let parts = name.dropLast(4).split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, let dash = parts[2].lastIndex(of: "-") else { return nil }
        let id = String(parts[2][parts[2].index(after: dash)...])
        let container = String(parts[2][..<dash])
        guard id.count == 64, id.allSatisfy(\.isHexDigit), !container.isEmpty else { return nil }
        return (id, Container(pod: Pod(namespace: parts[1], name: parts[0]), name: container))
    }
}
