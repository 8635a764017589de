import HostMemDiagnosis
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
}
