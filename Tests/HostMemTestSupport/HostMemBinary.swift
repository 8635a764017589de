import Foundation

/// Runs the built `hostmem` executable (it sits beside the test bundle in the build folder).
public enum HostMemBinary {
    public static var path: String {
        let arguments0 = CommandLine.arguments[0]
        let bundle = URL(fileURLWithPath: arguments0, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        var folder = bundle.deletingLastPathComponent()
        // The test bundle may be a directory (…/hostmemPackageTests.xctest/…); walk up to the build folder.
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("hostmem").path),
              folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("hostmem").path
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs hostmem with `arguments`; `environment` sets variables over the test's own.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}
