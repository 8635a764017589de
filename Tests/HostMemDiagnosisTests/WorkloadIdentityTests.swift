import Foundation
import HostMemDiagnosis
import HostMemTopology
import Testing

/// A job's name on the fleet, from the cgroup paths real runtimes write.
struct WorkloadIdentityTests {
    static let uid = "5f1c2b3a-0d4e-4a4a-9b9b-123456789abc"
    static let id = "0123456789abcdef" + String(repeating: "fe", count: 24)

    @Test("Kubernetes, Docker, CRI-O, Podman, Slurm and bare processes", arguments: [
        // cgroupfs driver, v1 (cpu controller) and v2.
        (["cpu,cpuacct": "/kubepods/burstable/pod\(uid)/\(id)", "memory": "/kubepods/burstable/pod\(uid)/\(id)"], "pod/\(uid)/0123456789ab"),
        (["unified": "/kubepods/besteffort/pod\(uid)/\(id)"], "pod/\(uid)/0123456789ab"),
        // systemd driver: dashes become underscores in the slice name.
        (["unified": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice/cri-containerd-\(id).scope"], "pod/\(uid)/0123456789ab"),
        (["unified": "/kubepods.slice/kubepods-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice/crio-\(id).scope"], "pod/\(uid)/0123456789ab"),
        // The pod's own cgroup (a process in the pod but no container scope).
        (["unified": "/kubepods/pod\(uid)"], "pod/\(uid)"),
        (["unified": "/system.slice/docker-\(id).scope"], "container/0123456789ab"),
        (["cpu": "/docker/\(id)", "unified": "/"], "container/0123456789ab"),
        (["unified": "/machine.slice/libpod-\(id).scope/container"], "container/0123456789ab"),
        (["unified": "/system.slice/slurmstepd.scope/job_4242/step_0/user/task_0"], "slurm/4242"),
        (["cpuset": "/slurm/uid_1000/job_77/step_batch", "unified": "/"], "slurm/77"),
        (["unified": "/user.slice/user-1000.slice/session-3.scope"], "process/python3"),
        ([:], "process/python3"),
        // Look-alikes: too short to be a container ID, not a pod UID.
        (["unified": "/system.slice/docker-1234.scope"], "process/python3"),
        (["unified": "/podcast.slice/job_x"], "process/python3"),
    ] as [([String: String], String)])
    func label(paths: [String: String], expected: String) {
        #expect(WorkloadIdentity.from(cgroupPaths: paths, processName: "python3").label == expected)
    }

    @Test("the IDs are kept whole for the info metric")
    func fullIDs() {
        let identity = WorkloadIdentity.from(cgroupPaths: ["unified": "/kubepods/burstable/pod\(Self.uid)/\(Self.id)"], processName: "torchrun")
        #expect(identity.kind == .pod && identity.podUID == Self.uid && identity.containerID == Self.id && identity.processName == "torchrun")
        var second = identity
        second.ordinal = 2
        #expect(second.label == identity.label + "#2")
    }

    /// The kubelet's log folders as a node has them (written from the kubelet's naming:
    /// pods/NAMESPACE_POD_UID/CONTAINER/0.log, containers/POD_NAMESPACE_CONTAINER-ID.log),
    /// with look-alikes that must be left alone.
    static func kubeletTree() throws -> String {
        let root = NSTemporaryDirectory() + "kubelet-" + UUID().uuidString
        let manager = FileManager.default
        let other = "9a8b7c6d-1111-2222-3333-444455556666"
        for folder in ["ml-team_resnet-train-0_\(uid)/trainer", "kube-system_coredns-5d78c9869d-x2x7q_\(other)/coredns",
                       "not_a_pod", "ml-team_broken_uid-too-short"] {
            try manager.createDirectory(atPath: root + "/var/log/pods/" + folder, withIntermediateDirectories: true)
        }
        try manager.createDirectory(atPath: root + "/var/log/containers", withIntermediateDirectories: true)
        for log in ["resnet-train-0_ml-team_trainer-\(id).log", "resnet-train-0_ml-team_sidecar-1234.log", "README.txt"] {
            manager.createFile(atPath: root + "/var/log/containers/" + log, contents: Data())
        }
        return root
    }

    @Test("pod and container names from the kubelet's log folders; look-alikes ignored")
    func kubeletNames() throws {
        let root = try Self.kubeletTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = KubeletNames.read(root: root)
        #expect(names.pods == [Self.uid: .init(namespace: "ml-team", name: "resnet-train-0"),
                               "9a8b7c6d-1111-2222-3333-444455556666": .init(namespace: "kube-system", name: "coredns-5d78c9869d-x2x7q")])
        #expect(names.containers == [Self.id: .init(pod: .init(namespace: "ml-team", name: "resnet-train-0"), name: "trainer")])
        #expect(KubeletNames.read(root: root + "/absent") == KubeletNames(), "no folders: no names, no error")
    }

    @Test("a pod's job is labelled by namespace, pod and container where the kubelet names them")
    func namedLabel() throws {
        let root = try Self.kubeletTree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let names = KubeletNames.read(root: root)
        let container = WorkloadIdentity.from(cgroupPaths: ["unified": "/kubepods/burstable/pod\(Self.uid)/\(Self.id)"], processName: "python3")
        let named = container.named(by: names)
        #expect(named.label == "pod/ml-team/resnet-train-0/trainer")
        #expect(named.podUID == Self.uid && named.containerID == Self.id, "the IDs stay for the info metric")
        // Only the pod's folder known (its container's log not there yet): the ID's prefix.
        let other = "fedcba9876543210" + String(repeating: "ab", count: 24)
        let unlisted = WorkloadIdentity.from(cgroupPaths: ["unified": "/kubepods/pod\(Self.uid)/\(other)"], processName: "python3")
        #expect(unlisted.named(by: names).label == "pod/ml-team/resnet-train-0/fedcba987654")
        // Nothing known, or not a pod: unchanged.
        #expect(container.named(by: KubeletNames()).label == "pod/\(Self.uid)/0123456789ab")
        let docker = WorkloadIdentity.from(cgroupPaths: ["unified": "/system.slice/docker-\(Self.id).scope"], processName: "python3")
        #expect(docker.named(by: names) == docker)
    }
}
