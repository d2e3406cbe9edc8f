// SGEMM entry points: the cache-blocked C kernel, split across the context's workers.
import CSNEKernels

extension ComputeContext {
    /// `C = alpha * op(A) * op(B) + beta * C` (row-major), multithreaded over blocks of C.
    ///
    /// `op(A)` is `(m, k)`: A is `(m, lda)` or, with `transA`, `(k, lda)`. `op(B)` is `(k, n)`: B is
    /// `(k, ldb)` or, with `transB`, `(n, ldb)`. C is `(m, ldc)`. Every element of C is reduced over
    /// k in one fixed order, so the result does not depend on the thread count.
    public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m <= 0 || n <= 0 { return }
        let work = m * n * max(k, 1)
        if threads == 1 || work < 1 << 17 {
            sgemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, worker: 0)
            return
        }
        let pa = SharedPointer(a), pb = SharedPointer(b), pc = SharedPointer(c)
        if n >= m {
            let blocks = (n + 15) / 16
            parallelFor(blocks) { r, w in
                sne_sgemm_block(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                                pa.p, Int32(lda), pb.p, Int32(ldb), beta, pc.p, Int32(ldc),
                                0, Int32(m), Int32(r.lowerBound * 16), Int32(min(n, r.upperBound * 16)),
                                self._gemmWorkspace(w), isaLevel)
            }
        } else {
            let blocks = (m + 5) / 6
            parallelFor(blocks) { r, w in
                sne_sgemm_block(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                                pa.p, Int32(lda), pb.p, Int32(ldb), beta, pc.p, Int32(ldc),
                                Int32(r.lowerBound * 6), Int32(min(m, r.upperBound * 6)), 0, Int32(n),
                                self._gemmWorkspace(w), isaLevel)
            }
        }
    }

    /// Single-threaded SGEMM on worker `worker`'s packing buffer (for use inside `parallelFor`).
    public func sgemmSerial(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                            c: UnsafeMutablePointer<Float>, ldc: Int, worker: Int) {
        sne_sgemm_block(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
                        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc),
                        0, Int32(m), 0, Int32(n), _gemmWorkspace(worker), isaLevel)
    }

    /// Matrix product of two rank-2 tensors, `op(a) * op(b)`.
    public func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else { throw TensorError("matmul: operands must be rank 2, got \(a.shape) and \(b.shape)") }
        let m = transA ? a.shape[1] : a.shape[0], ka = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard ka == kb else { throw TensorError("matmul: inner dimensions differ (\(a.shape)\(transA ? "ᵀ" : "") x \(b.shape)\(transB ? "ᵀ" : ""))") }
        var out = Tensor(zeros: [m, n])
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: ka, a: pa.baseAddress!, lda: a.shape[1],
                          b: pb.baseAddress!, ldb: b.shape[1], c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}

/// The plain triple loop (in Double) that SGEMM is tested against.
public func referenceGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                          a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * lda + i] : a[i * lda + p]
                let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * s + old)
        }
    }
}
