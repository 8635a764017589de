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

    @Test("the CPU time a child used comes back with its exit: what the child itself counted, and a sleeping one's less")
    func usage() throws {
        // The shell writes its own /proc/self/stat (a builtin read: no child of its own) as it
        // ends; the usage wait4 gives back must be that CPU time, however fast the machine.
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("hostmem-usage-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let script = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; read -r line < /proc/$$/stat; echo \"$line\" > \(report); exit 4"
        let busy = try ChildProcess.spawn(["sh", "-c", script]).waitWithUsage()
        #expect(busy.exit == .exited(4))
        // proc(5): after the command's closing parenthesis, field 3 (state) on; utime and stime are 14 and 15.
        let text = try String(contentsOfFile: report, encoding: .utf8)
        let fields = try #require(text.split(separator: ")").last?.split(separator: " "))
        let ticks = try #require(UInt64(fields[14 - 3]).flatMap { user in UInt64(fields[15 - 3]).map { user + $0 } })
        let counted = Double(ticks) / Double(SystemInfo.clockTicksPerSecond)
        let tick = 1 / Double(SystemInfo.clockTicksPerSecond)
        try #require(counted >= 2 * tick, "the loop must use a few clock ticks for the comparison to mean anything")
        #expect(busy.cpuSeconds >= counted - tick && busy.cpuSeconds <= counted + 5 * tick,
                "wait4 said \(busy.cpuSeconds) s, the shell counted \(counted) s just before it exited")
        let idle = try ChildProcess.spawn(["sleep", "0.3"]).waitWithUsage()
        #expect(idle.exit == .exited(0) && idle.cpuSeconds <= busy.cpuSeconds)
    }
}
