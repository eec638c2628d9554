// GEMM: the one matrix multiply the engine uses (OpenBLAS sgemm, row-major), and its naive
// reference. Not a general BLAS binding.
internal import CBLAS

public enum Transpose: Sendable { case none, transposed }

public enum Gemm {
    /// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major with leading dimensions.
    @inlinable
    public static func multiply(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        sgemm(transA == .transposed, transB == .transposed, Int32(m), Int32(n), Int32(k), alpha,
              a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @usableFromInline
    static func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Plain triple loop in Double: the test oracle for `multiply`.
    public static func multiplyNaive(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float = 0, c: inout [Float], ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transA == .none ? a[i * lda + p] : a[p * lda + i]
                    let bv = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                    s += Double(av) * Double(bv)
                }
                c[i * ldc + j] = Float(Double(alpha) * s + (beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])))
            }
        }
    }

    /// Threads OpenBLAS may use (it is told once; our own kernels use `Parallel`).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}
