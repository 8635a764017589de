import Foundation
import HostMemTestSupport
@testable import HostMemPlatform
import Testing

struct ChildProcessTests {
    @Test("a child started from a thread that blocks SIGTERM starts with nothing blocked and dies of SIGTERM")
    func signalsReset() throws {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let child = Result { () throws(SystemError) in try ChildProcess.spawn(["sleep", "5"]) }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let process = try child.get()

        // Wait for the exec, then read the mask the command runs with.
        var status = ""
        eventually(timeout: .seconds(2), interval: .milliseconds(10)) {
            status = (try? FileSystem.readText(atPath: "/proc/\(process.pid)/status")) ?? ""
            return status.contains("Name:\tsleep")
        }
        let mask = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }?.split(separator: "\t").last
        #expect(mask.flatMap { UInt64($0, radix: 16) } == 0, "\(status)")
        kill(process.pid, SIGTERM)
        #expect(try process.wait() == .signaled(SIGTERM))
    }

    @Test("exit codes come back; a missing command is a typed error")
    func exits() throws {
        #expect(try ChildProcess.spawn(["sh", "-c", "exit 3"]).wait() == .exited(3))
        #expect(throws: SystemError.self) { try ChildProcess.spawn(["hostmem-no-such-command"]) }
    }

    @Test("the CPU time a child used comes back with its exit: a busy child's, and a sleeping one's near none")
    func usage() throws {
        let busy = try ChildProcess.spawn(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exit 4"]).waitWithUsage()
        #expect(busy.exit == .exited(4))
        #expect(busy.cpuSeconds > 0.05, "a 300,000-step shell loop used \(busy.cpuSeconds) s")
        let idle = try ChildProcess.spawn(["sleep", "0.3"]).waitWithUsage()
        #expect(idle.exit == .exited(0) && idle.cpuSeconds < busy.cpuSeconds)
    }
}
