import Foundation
import Synchronization

/// A set of 128-bit fingerprints: 64 shards, each an open-addressing table of (lo, hi)
/// pairs behind its own lock. Stores fingerprints only, never states.
final class VisitedSet: @unchecked Sendable {
    final class Shard {
        let lock = NSLock()
        var table: [UInt64]
        var mask: Int
        var count = 0
        init(capacity: Int) {
            table = [UInt64](repeating: 0, count: 2 * capacity)
            mask = capacity - 1
        }

        /// Inserts; true when `fp` was not there. (A table of its own, unlocked, is a
        /// thread's set of the fingerprints it met in a level.)
        func insert(_ fp: Fingerprint) -> Bool {
            let (lo, hi) = VisitedSet.key(fp)
            return insert(lo, hi)
        }

        /// Inserts; true when (lo, hi) was not there.
        func insert(_ lo: UInt64, _ hi: UInt64) -> Bool {
            // Grow only for a fingerprint that is not there (a repeated one costs no space).
            if (count + 1) * 4 > (mask + 1) * 3 && !contains(lo, hi) { grow() }
            var i = Int(truncatingIfNeeded: lo) & mask
            while true {
                let a = table[2 * i], b = table[2 * i + 1]
                if a == 0 && b == 0 {
                    table[2 * i] = lo; table[2 * i + 1] = hi
                    count += 1
                    return true
                }
                if a == lo && b == hi { return false }
                i = (i + 1) & mask
            }
        }

        func contains(_ lo: UInt64, _ hi: UInt64) -> Bool {
            var i = Int(truncatingIfNeeded: lo) & mask
            while true {
                let a = table[2 * i], b = table[2 * i + 1]
                if a == 0 && b == 0 { return false }
                if a == lo && b == hi { return true }
                i = (i + 1) & mask
            }
        }

        func grow() {
            let old = table
            let cap = (mask + 1) * 2
            table = [UInt64](repeating: 0, count: 2 * cap)
            mask = cap - 1
            count = 0
            var k = 0
            while k < old.count {
                if old[k] != 0 || old[k + 1] != 0 { _ = insert(old[k], old[k + 1]) }
                k += 2
            }
        }
    }

    static let shardCount = 64
    let shards: [Shard]
    /// Fingerprints inserted so far (read without the shard locks).
    let total = Atomic<Int>(0)
    /// Small tables at first (they double as they fill), so that small searches do not pay
    /// for a large empty table in bytes per state.
    init() { shards = (0..<VisitedSet.shardCount).map { _ in Shard(capacity: 4) } }

    @inline(__always) static func shard(of fp: Fingerprint) -> Int { Int(fp.hi >> 58) }

    /// A fingerprint as a table holds it: (0, 0) marks an empty slot, and is held as (1, 0).
    @inline(__always) static func key(_ fp: Fingerprint) -> (UInt64, UInt64) {
        (fp.lo == 0 && fp.hi == 0 ? 1 : fp.lo, fp.hi)
    }

    func insert(_ fp: Fingerprint) -> Bool {
        let s = shards[VisitedSet.shard(of: fp)]
        s.lock.lock()
        let new = s.insert(fp)
        s.lock.unlock()
        if new { total.add(1, ordering: .relaxed) }
        return new
    }

    /// Whether `fp` is in the set. Only while no thread inserts (the search reads the set
    /// while it expands a level and writes it between levels).
    func contains(_ fp: Fingerprint) -> Bool {
        let (lo, _) = VisitedSet.key(fp)
        let s = shards[VisitedSet.shard(of: fp)]
        return s.table.withUnsafeBufferPointer { t in
            var i = Int(truncatingIfNeeded: lo) & s.mask
            while true {
                let a = t[2 * i], b = t[2 * i + 1]
                if a == 0 && b == 0 { return false }
                if a == lo && b == fp.hi { return true }
                i = (i + 1) & s.mask
            }
        }
    }

    var count: Int { shards.reduce(0) { $0 + $1.count } }
    /// Bytes held by the tables.
    var bytes: Int { shards.reduce(0) { $0 + $1.table.count * 8 } }
}
