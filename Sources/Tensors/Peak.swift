// The machine's fp32 peak, measured: every thread runs independent FMA chains at the widest
// vector width the CPU has (AVX-512F, else AVX2 + FMA) for a fixed time. The benchmark states
// the engine's speed as a fraction of this, since machines differ from session to session.
internal import CKernels
import Dispatch

public enum Peak {
    public struct Measurement: Sendable {
        /// Billions of single-precision FLOPs per second over all threads (an FMA is 2 FLOPs).
        public var gflops: Double
        /// "AVX-512F" or "AVX2+FMA"; nil on CPUs with neither (no measurement).
        public var instructions: String
        public var threads: Int
    }

    /// Measures for about `seconds` on `Parallel.threadCount` threads; nil without AVX2/AVX-512.
    public static func measure(seconds: Double = 1) -> Measurement? {
        let wide = rp_cpu_has_avx512f() == 1
        guard wide || rp_cpu_has_avx2_fma() == 1 else { return nil }
        let lanes = 16.0   // the AVX2 loop runs twice the iterations of 8 lanes: the same FLOPs
        let run: @Sendable (Int) -> Float = { wide ? rp_fma_loop_avx512($0) : rp_fma_loop_avx2($0) }
        // Calibrate the iteration count on one thread, then run it on all at once.
        var iterations = 1 << 16
        while true {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = run(iterations)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if dt > seconds / 4 || iterations > 1 << 40 { iterations = Int(Double(iterations) * seconds / max(dt, 1e-9)); break }
            iterations *= 4
        }
        let threads = Parallel.threadCount, perThread = iterations
        let t0 = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in _ = run(perThread) }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let flops = Double(iterations) * 24 * lanes * 2 * Double(threads)
        return Measurement(gflops: flops / dt / 1e9, instructions: wide ? "AVX-512F" : "AVX2+FMA", threads: threads)
    }
}
