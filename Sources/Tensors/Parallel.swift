// parallelFor: split a range into a few contiguous chunks over the machine's cores.
// Not a scheduler: waking a second thread costs ~20–50 µs here, so callers pass the work size
// and small jobs run inline.
import Dispatch
internal import CKernels
#if canImport(Glibc)
import Glibc
#endif

public enum Parallel {
    /// Worker count; `ROBUSTPATCH_THREADS` overrides the core count.
    public static let threadCount: Int = {
        if let s = getenv("ROBUSTPATCH_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 2
        #endif
    }()

    /// Below this many multiply-adds (or bytes touched) a job runs on the calling thread.
    public static let minimumWork = 200_000

    /// Calls `body(range)` on disjoint chunks covering `0..<count`. `work` estimates the total cost.
    @inlinable
    public static func forEachChunk(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(count, work < minimumWork || isInline ? 1 : threadCount)
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        // The chunks are disjoint and concurrentPerform returns only when all are done, so the
        // non-Sendable closure never outlives this call nor runs on overlapping data.
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { i in
                let lo = count * i / chunks, hi = count * (i + 1) / chunks
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

extension Parallel {
    /// True while this thread runs every `forEachChunk` job inline (inside `inline`): it is one
    /// of several threads that each run their own share of a batch.
    public static var isInline: Bool { rp_parallel_inline() != 0 }

    /// Runs `body` with `forEachChunk` inline on this thread (nests).
    public static func inline<R>(_ body: () throws -> R) rethrows -> R {
        rp_parallel_inline_push()
        defer { rp_parallel_inline_pop() }
        return try body()
    }

    /// How many parts `forEachPart(count)` makes here (at least 1).
    public static func partCount(_ count: Int) -> Int { isInline ? 1 : max(1, min(count, threadCount)) }

    /// Splits `0..<count` into `threadCount` contiguous parts (at most `count`) and runs
    /// `body(part, range)` for each on its own thread, with jobs inside inline (`inline`).
    /// Part i always gets the same range for the same count, so results do not depend on timing.
    public static func forEachPart(_ count: Int, _ body: (_ part: Int, _ range: Range<Int>) -> Void) {
        let parts = partCount(count)
        if parts <= 1 {
            if count > 0 { inline { body(0, 0..<count) } }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { i in
                let lo = count * i / parts, hi = count * (i + 1) / parts
                if lo < hi { inline { box.value(i, lo..<hi) } }
            }
        }
    }
}

extension Parallel {
    /// Calls `body(i)` once for every i in `0..<count`, items handed out one at a time to the
    /// machine's threads as each finishes its last (a shared queue): for a few expensive items
    /// of uneven cost (rendering a batch's samples), where equal contiguous chunks leave one
    /// core idle. Which thread runs an item depends on timing, so `body` must write only what
    /// item i owns; then results do not depend on timing. Inline (see `inline`): in order here.
    public static func forEachItem(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(count, isInline ? 1 : threadCount)
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        next.initialize(to: 0)
        defer { next.deallocate() }
        let counter = UncheckedSendable(next)
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let i = rp_atomic_next(counter.value)
                    if i >= count { break }
                    box.value(i)
                }
            }
        }
    }
}

/// Carries a value across a concurrency boundary whose safety the caller has argued for.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}
