// ComputeContext: the thread count and per-thread scratch memory every kernel runs with (no globals).
import Dispatch
import CSNEKernels

/// A raw pointer that may cross into `parallelFor` bodies; each body writes only disjoint parts.
public struct SharedPointer<T>: @unchecked Sendable {
    public let p: UnsafeMutablePointer<T>
    @inlinable public init(_ p: UnsafeMutablePointer<T>) { self.p = p }
    @inlinable public init(_ p: UnsafePointer<T>) { self.p = UnsafeMutablePointer(mutating: p) }
}

/// Owns the worker count and one scratch arena per worker. Work is split into `threads` static
/// contiguous chunks, so a given thread count always produces the same partition (and, with the
/// kernels' fixed reduction orders, bit-identical results).
///
/// A context serves one caller at a time (its scratch is shared by its workers): give each
/// concurrently running model or test its own context.
public final class ComputeContext: @unchecked Sendable {
    /// Number of workers used by `parallelFor`.
    public let threads: Int
    /// The vector ISA level every kernel family runs at: 0 portable C, 1 AVX2+FMA, 2 AVX-512
    /// (`sne_isa_level`; passed to the kernels with each call).
    public let isaLevel: Int32
    /// The direct-convolution kernels: the ISA level, or 0 when convolutions use im2col + SGEMM.
    public let directConvPath: Int32
    /// Whether stride-1 convolutions run the direct kernels instead of im2col + SGEMM.
    public var usesDirectConv: Bool { directConvPath > 0 }
    /// Whether convolution layers whose input is all 0/1 (spikes) run the spike kernels
    /// (`sne_conv_spike.c`: pattern tables instead of multiplications) at `isaLevel`.
    public let usesSpikeConv: Bool
    /// The SGEMM micro-kernel: "portable", "avx2+fma" (6x16) or "avx512" (8x32).
    public var sgemmPath: String { Self.levelNames[Int(isaLevel)] }
    /// The convolution path: "off (im2col)", "avx2+fma" or "avx512".
    public var directConvName: String { directConvPath == 0 ? "off (im2col)" : Self.levelNames[Int(directConvPath)] }
    static let levelNames = ["portable", "avx2+fma", "avx512"]
    let gemmWorkspaceFloats: Int
    private var gemmWorkspaces: [UnsafeMutablePointer<Float>]
    private var scratch: [UnsafeMutablePointer<Float>]
    private var scratchSize: [Int]
    /// The worker threads of `parallelFor` (`sne_pool.c`; nil with one thread).
    private let pool: OpaquePointer?

    /// - Parameters:
    ///   - threads: workers (default: all active processors).
    ///   - portable: ISA level 0 (portable C SGEMM, im2col convolutions) on any CPU (for tests/comparison).
    ///   - directConv: use the direct convolution kernels (AVX-512 or AVX2) where the CPU has them
    ///     (default); false (or `portable`) always lowers convolutions to im2col + SGEMM.
    ///   - isaCap: cap the ISA level of every kernel (0 portable, 1 AVX2, 2 AVX-512); nil = the best
    ///     this CPU runs.
    ///   - spikeConv: let convolution layers on binary spike inputs use the spike kernels (default).
    public init(threads: Int? = nil, portable: Bool = false, directConv: Bool = true, isaCap: Int? = nil, spikeConv: Bool = true) {
        let n = max(1, threads ?? ProcessInfoShim.activeProcessorCount)
        #if canImport(Glibc)
        // Training allocates and frees many same-sized activation buffers per step. glibc would
        // return each large block to the OS and page-fault it back in on the next step (several ms
        // per step); keeping them in the heap makes reuse free. Affects only allocator tuning.
        sne_tune_allocator()
        #endif
        self.threads = n
        let level = sne_isa_level(portable ? 0 : Int32(isaCap ?? -1))
        self.isaLevel = level
        self.directConvPath = directConv ? level : 0
        self.usesSpikeConv = spikeConv
        gemmWorkspaceFloats = Int(sne_sgemm_workspace_floats())
        gemmWorkspaces = (0..<n).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Int(sne_sgemm_workspace_floats()))
            return p
        }
        scratch = (0..<n).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: 1) }
        scratchSize = Array(repeating: 1, count: n)
        pool = n > 1 ? sne_pool_create(Int32(n)) : nil
    }

    deinit {
        sne_pool_destroy(pool)
        for p in gemmWorkspaces { p.deallocate() }
        for p in scratch { p.deallocate() }
    }

    /// The SGEMM packing buffer of worker `worker`.
    @inlinable func gemmWorkspace(_ worker: Int) -> UnsafeMutablePointer<Float> { _gemmWorkspace(worker) }
    @usableFromInline func _gemmWorkspace(_ worker: Int) -> UnsafeMutablePointer<Float> { gemmWorkspaces[worker] }

    /// Scratch of at least `floats` floats owned by worker `worker` (valid until its next call).
    /// Call `reserveScratch` before a parallel region so no worker reallocates concurrently.
    public func scratch(_ worker: Int) -> UnsafeMutablePointer<Float> { scratch[worker] }

    /// Makes every worker's scratch at least `floats` long. Call outside parallel regions.
    public func reserveScratch(_ floats: Int) {
        for w in 0..<threads where scratchSize[w] < floats {
            scratch[w].deallocate()
            scratch[w] = .allocate(capacity: floats)
            scratchSize[w] = floats
        }
    }

    /// Runs `body(range, worker)` over `0..<n` split into at most `threads` contiguous chunks
    /// (chunk boundaries depend only on `n` and `threads`). Runs inline when one chunk suffices.
    public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        if n <= 0 { return }
        let chunks = max(1, min(threads, n / max(1, minChunk)))
        if chunks == 1 { body(0..<n, 0); return }
        withoutActuallyEscaping(body) { escapable in
            var job = PoolJob(n: n, chunks: chunks, body: escapable)
            withUnsafeMutablePointer(to: &job) { jp in
                sne_pool_run(pool, Int32(chunks), { ctx, w in
                    let job = ctx!.assumingMemoryBound(to: PoolJob.self)
                    let n = job.pointee.n, chunks = job.pointee.chunks, w = Int(w)
                    let lo = n * w / chunks, hi = n * (w + 1) / chunks
                    if lo < hi { job.pointee.body(lo..<hi, w) }
                }, jp)
            }
        }
    }
}

/// One `parallelFor`: what the pool's workers read (callers keep the chunks' writes disjoint).
struct PoolJob {
    let n: Int, chunks: Int
    let body: (Range<Int>, Int) -> Void
}

/// Lets a non-Sendable closure run on the workers of one `parallelFor` (callers keep writes disjoint).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Processor count without importing Foundation into every kernel file.
enum ProcessInfoShim {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 2
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
