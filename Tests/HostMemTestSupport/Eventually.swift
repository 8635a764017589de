import Foundation

/// Polls `condition` every `interval` until it holds or `timeout` has passed, and says
/// whether it held: the one way the tests wait for a process or the kernel, always
/// bounded (a busy machine only makes it slower, never hangs a test).
@discardableResult
public func eventually(timeout: Duration = .seconds(10), interval: Duration = .milliseconds(50), _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
    }
    return try condition()
}
