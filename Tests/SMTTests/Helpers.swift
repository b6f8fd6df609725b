import SMT

/// Pigeonhole principle: `holes + 1` pigeons into `holes` holes (UNSAT, and
/// exponentially hard for resolution once `holes` is around 10+).
func assertPigeonhole(_ c: Context, _ s: Solver, holes: Int) throws {
    let pigeons = holes + 1
    var p: [[Term]] = []
    for i in 0..<pigeons {
        p.append((0..<holes).map { c.boolConst("p_\(i)_\($0)") })
    }
    for i in 0..<pigeons {
        try s.assert(c.or(p[i]))
    }
    for h in 0..<holes {
        for i in 0..<pigeons {
            for j in (i + 1)..<pigeons {
                try s.assert(!(p[i][h] && p[j][h]))
            }
        }
    }
}

/// Wall-clock seconds taken by `body`.
func seconds<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let r = try body()
    let d = clock.now - start
    let (sec, atto) = d.components
    return (r, Double(sec) + Double(atto) / 1e18)
}
