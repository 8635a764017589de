import Foundation
import HostMemPlatform
import HostMemTestSupport
import Testing

let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `hostmem doctor --pid P --watch` as a person sees it: in a tmux pane (a real
/// terminal), redrawn per window, then Ctrl-C; and piped as JSON Lines. The job is a
/// `sleep` that hostmem must leave alone.
@Suite(.serialized)
struct WatchCLITests {
    /// Polls `condition` every 0.2 s for up to `seconds` (a busy machine only makes it slower).
    func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        try HostMemTestSupport.eventually(timeout: .milliseconds(Int(seconds * 1000)), interval: .milliseconds(200), condition)
    }

    /// A `sleep` to watch: the job hostmem must leave alone. Started with posix_spawn and
    /// an empty signal mask (Foundation's Process passes on the test thread's blocked
    /// signals, and such a sleep outlives the test holding swift test's output pipe).
    func startJob(seconds: String) throws -> ChildProcess {
        try ChildProcess.spawn(["/bin/sleep", seconds])
    }

    /// Whether the job still sleeps (not exited, not a zombie).
    func isSleeping(_ job: ChildProcess) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(job.pid)/stat", encoding: .utf8)) ?? "").contains(") S ")
    }

    @Test("in a terminal: a frame per window, Ctrl-C prints the summary, exit 0, the job untouched",
          .enabled(if: tmux != nil), .timeLimit(.minutes(2)))
    func terminal() throws {
        let tmux = try #require(tmux)
        let job = try startJob(seconds: "120")
        defer {
            try? job.interrupt()
            _ = try? job.wait()
        }
        let session = "hostmem-watch-\(getpid())"
        func run(_ arguments: [String]) throws -> String { try Shell.run(tmux, arguments).output }
        // Started with posix_spawn, not Foundation's Process: the tmux server daemonizes,
        // and Foundation waits for every holder of its child's descriptors to exit.
        let start = try ChildProcess.spawn(
            [tmux, "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
             "\(HostMemBinary.path) doctor --pid \(job.pid) --watch --interval 1 --no-python-stacks; echo EXIT=$?; sleep 60"],
            outputPath: "/dev/null")
        #expect(try start.wait() == .exited(0))
        defer { _ = try? run(["kill-session", "-t", session]) }
        func pane() throws -> String { try run(["capture-pane", "-p", "-t", session]) }
        let shown = try eventually(30) { try pane().contains("hostmem doctor --watch — PID \(job.pid)") && pane().contains("  2   ") }
        #expect(shown, "\((try? pane()) ?? "")")
        let frame = try pane()
        #expect(frame.contains("Per window (CPU: % of one CPU"))
        #expect(frame.contains("Findings"))
        _ = try run(["send-keys", "-t", session, "C-c"])
        let exited = try eventually(30) { try pane().contains("EXIT=0") }
        #expect(exited, "\((try? pane()) ?? "")")
        let summary = try pane()
        #expect(summary.contains("hostmem doctor --watch summary — PID \(job.pid):"))
        #expect(summary.contains("stopped"))
        #expect(isSleeping(job), "Ctrl-C reached hostmem only, never the job")
    }

    @Test("piped with --json: one object per window, then the summary; a job that exits ends the watch")
    func jsonLines() throws {
        let job = try startJob(seconds: "2.5")
        let result = try HostMemBinary.run(["doctor", "--pid", "\(job.pid)", "--watch", "--json", "--interval", "1", "--no-python-stacks"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try job.wait() == .exited(0), "the job ran to its end untouched")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count >= 2, "\(result.stdout)")
        let schema = try JSONSchema.named("doctor-report.schema.json")
        for (index, line) in lines.dropLast().enumerated() {
            #expect(schema.violations(ofJSON: line) == [])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["window"] as? [String: Any])?["index"] as? Int == index + 1)
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any])
        let log = try #require(summary["summary"] as? [String: Any])
        #expect(log["jobExited"] as? Bool == true)
        #expect((log["windows"] as? [Any])?.count == lines.count - 1)
    }

    @Test("--watch needs --pid; --interval below 1 s is refused")
    func badInput() throws {
        let noPID = try HostMemBinary.run(["doctor", "--watch"])
        #expect(noPID.status == 2 && noPID.stderr.contains("--watch needs --pid"))
        let short = try HostMemBinary.run(["doctor", "--pid", "1", "--watch", "--interval", "0.5"])
        #expect(short.status == 2 && short.stderr.contains("--interval must be between 1 and 3600"))
    }
}
