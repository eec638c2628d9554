// Parallel's shared work queue: every item exactly once, whatever the count or the nesting.
import Foundation
import Testing
import Tensors

@Suite struct ParallelTests {
    @Test func forEachItemRunsEveryItemOnce() {
        for count in [0, 1, 2, 3, 17, 200] {
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                let slots = UncheckedSendable(h)
                // Uneven work: later items cost more, so threads take different numbers of them.
                Parallel.forEachItem(count) { i in
                    var x = 0.0
                    for k in 0..<(i * 50) { x += sin(Double(k)) }
                    slots.value[i] += x.isNaN ? 2 : 1
                }
            }
            #expect(hits == [Int](repeating: 1, count: count), "count \(count)")
        }
        // Inside a thread's own share (inline), items run in order on that thread.
        var order: [Int] = []
        Parallel.inline { Parallel.forEachItem(5) { order.append($0) } }
        #expect(order == [0, 1, 2, 3, 4])
    }
}
