// Profiler: optional wall-clock totals per named stage, for finding where a step's time goes.
// Enabled by ROBUSTPATCH_PROFILE=1; otherwise `measure` just runs the closure.
import Dispatch
import Foundation

public final class Profiler: @unchecked Sendable {
    public static let shared = Profiler()
    public let enabled = ProcessInfo.processInfo.environment["ROBUSTPATCH_PROFILE"] == "1"
    private var totals: [String: (seconds: Double, calls: Int)] = [:]
    private let lock = NSLock()

    @inlinable
    public func measure<R>(_ name: @autoclosure () -> String, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let r = try body()
        add(name(), Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return r
    }

    public func add(_ name: String, _ seconds: Double) {
        lock.lock(); defer { lock.unlock() }
        let t = totals[name] ?? (0, 0)
        totals[name] = (t.seconds + seconds, t.calls + 1)
    }

    public func report() -> String {
        lock.lock(); defer { lock.unlock() }
        let total = totals.values.reduce(0) { $0 + $1.seconds }
        return totals.sorted { $0.value.seconds > $1.value.seconds }.map {
            String(format: "%8.1f ms %5.1f%%  %6d  %@", $0.value.seconds * 1000, 100 * $0.value.seconds / max(total, 1e-12), $0.value.calls, $0.key)
        }.joined(separator: "\n")
    }

    /// Total seconds and calls per stage so far.
    public func snapshot() -> [String: (seconds: Double, calls: Int)] {
        lock.lock(); defer { lock.unlock() }
        return totals
    }

    public func reset() { lock.lock(); totals.removeAll(); lock.unlock() }
}
