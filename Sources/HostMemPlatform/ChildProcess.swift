#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A command started by hostmem (`hostmem doctor -- CMD…`), which inherits stdin,
/// stdout and stderr. The corresponding C functions are `posix_spawnp` and `wait4`.
public struct ChildProcess: Sendable {
    public let pid: Int32

    /// Starts `arguments[0]` found on PATH with the rest as its arguments. With
    /// `outputPath`, its stdout and stderr go to that file instead of hostmem's. With
    /// `ownProcessGroup`, the child leads a process group of its own, so a Ctrl-C at the
    /// terminal reaches hostmem only and hostmem decides what the child gets. `environment`
    /// sets variables over hostmem's own for the child (nothing else is changed).
    public static func spawn(_ arguments: [String], outputPath: String? = nil, ownProcessGroup: Bool = false,
                             environment: [String: String] = [:]) throws(SystemError) -> ChildProcess {
        precondition(!arguments.isEmpty, "a command needs a name")
        var pid: pid_t = 0
        let cStrings = arguments.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var argv = cStrings + [nil]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // The child starts with no signal blocked and default dispositions, as from a
        // shell: the calling thread may be a Swift concurrency thread, which blocks
        // almost every signal, and a child inheriting that mask never sees SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var caught = sigset_t()
        sigemptyset(&caught)
        for signal in [SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&caught, signal) }
        posix_spawnattr_setsigdefault(&attributes, &caught)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var variables: [UnsafeMutablePointer<CChar>?] = []
        defer { variables.forEach { free($0) } }
        if !environment.isEmpty {
            var index = 0
            while let entry = environ[index] {
                let text = String(cString: entry)
                let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
                if environment[name] == nil { variables.append(strdup(text)) }
                index += 1
            }
            for (name, value) in environment.sorted(by: { $0.key < $1.key }) { variables.append(strdup("\(name)=\(value)")) }
        }
        var envp = variables + [nil]
        let code = environment.isEmpty ? posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
            : posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        if code != 0 { throw SystemError(operation: "posix_spawnp", path: arguments[0], code: code) }
        return ChildProcess(pid: pid)
    }

    /// How the child ended.
    public enum Exit: Sendable, Hashable {
        case exited(Int32)
        case signaled(Int32)

        /// The shell's convention: the exit code, or 128 + the signal number.
        public var shellStatus: Int32 {
            switch self {
            case .exited(let code): code
            case .signaled(let signal): 128 + signal
            }
        }
    }

    /// Asks the child to stop as Ctrl-C would (SIGINT): py-spy then writes what it
    /// recorded. The corresponding C function is `kill`.
    public func interrupt() throws(SystemError) {
        _ = try retryingInterrupts("kill", path: nil) { kill(pid, SIGINT) }
    }

    /// Ends a child started with `ownProcessGroup` and everything in its group: SIGTERM,
    /// then SIGKILL for what is left after `grace` (a DataLoader's workers get the term and
    /// clean their shared memory). Reaps the child. The corresponding C function is `kill`.
    public func endGroup(grace: Duration = .seconds(5)) -> Exit? {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now.advanced(by: grace)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return Self.exit(status) }
            usleep(20_000)
        }
        kill(-pid, SIGKILL)
        guard (try? retryingInterrupts("waitpid", path: nil, { waitpid(pid, &status, 0) })) != nil else { return nil }
        return Self.exit(status)
    }

    /// A wait status as an exit: WIFEXITED / WEXITSTATUS / WTERMSIG spelled out (they are macros).
    static func exit(_ status: Int32) -> Exit {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    /// Waits for the child to end (reaping it).
    public func wait() throws(SystemError) -> Exit {
        try waitWithUsage().exit
    }

    /// Waits for the child to end (reaping it), with the CPU time (user + system, seconds)
    /// it and the children it waited for used. The corresponding C function is `wait4`.
    public func waitWithUsage() throws(SystemError) -> (exit: Exit, cpuSeconds: Double) {
        var status: Int32 = 0
        var usage = rusage()
        _ = try retryingInterrupts("wait4", path: nil) { wait4(pid, &status, 0, &usage) }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        let cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
        return (Self.exit(status), cpuSeconds)
    }
}

extension FileSystem {
    /// Removes a file. The corresponding C function is `unlink`.
    public static func remove(atPath path: String) throws(SystemError) {
        _ = try retryingInterrupts("unlink", path: path) { unlink(path) }
    }

    /// Removes an empty directory. The corresponding C function is `rmdir`.
    public static func removeDirectory(atPath path: String) throws(SystemError) {
        _ = try retryingInterrupts("rmdir", path: path) { rmdir(path) }
    }

    /// Creates a new directory `folder/prefixXXXXXX`, readable by its owner only, and
    /// returns its path. The corresponding C function is `mkdtemp`.
    public static func makeTemporaryDirectory(in folder: String, prefix: String) throws(SystemError) -> String {
        var template = Array("\(folder)/\(prefix)XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else { throw SystemError(operation: "mkdtemp", path: folder, code: errno) }
        return String(cString: template)
    }

    /// Total and free bytes of the file system holding `path`.
    /// The corresponding C function is `statvfs`.
    public static func space(atPath path: String) throws(SystemError) -> (totalBytes: UInt64, freeBytes: UInt64) {
        var info = statvfs()
        _ = try retryingInterrupts("statvfs", path: path) { statvfs(path, &info) }
        let block = UInt64(info.f_frsize)
        return (UInt64(info.f_blocks) * block, UInt64(info.f_bavail) * block)
    }

}
