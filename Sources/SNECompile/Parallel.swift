// A small parallel map over indices (the interpreter is immutable and Sendable): each worker takes
// every `workers`-th index; results land in their own slots, so order and values are deterministic.
import Dispatch
import Foundation

final class Slots<T>: @unchecked Sendable {
    var values: [T?]
    var error: Error?
    let lock = NSLock()
    init(_ n: Int) { values = [T?](repeating: nil, count: n) }
}

/// `(0..<n).map(body)` on up to `workers` threads; the first error thrown (by index order of
/// discovery) is rethrown.
func parallelMap<T>(_ n: Int, workers: Int = 2, _ body: @Sendable @escaping (Int) throws -> T) throws -> [T] {
    let slots = Slots<T>(n)
    let w = max(1, min(workers, n))
    DispatchQueue.concurrentPerform(iterations: w) { wi in
        for i in stride(from: wi, to: n, by: w) {
            do {
                let v = try body(i)
                slots.lock.lock(); slots.values[i] = v; slots.lock.unlock()
            } catch {
                slots.lock.lock(); if slots.error == nil { slots.error = error }; slots.lock.unlock()
                return
            }
        }
    }
    if let e = slots.error { throw e }
    return slots.values.map { $0! }
}
