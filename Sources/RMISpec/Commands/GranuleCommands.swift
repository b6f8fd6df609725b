/// RMI_VERSION (B4.3.23). For an RMM that implements only v1.0, a request is compatible
/// iff it is exactly 1.0 (reference section 9); `lower` and `higher` are both 1.0.
enum Version {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let req = c.x[0]
        let v = Word<M.D>(Layout.version10)
        let conditions = [Condition<M.D>("incompatible", .errorInput, req != v, outputs: [v, v], listed: false)]
        return Evaluation(conditions, outputs: [v, v])
    }
}

/// RMI_FEATURES (B4.3.8): register 0 is RmiFeatureRegister0, every other index reads 0.
enum Features {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        Evaluation([], outputs: [ite(c.x[0] == 0, Word(m.platform.features0), 0)])
    }
}

/// RMI_GRANULE_DELEGATE (B4.3.6).
enum GranuleDelegate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let addr = c.x[0]
        let conditions: [Condition<M.D>] = m.granuleArgument("gran", addr, is: .undelegated) + [
            Condition("gran_gpt", .errorInput, m.granuleGPT(addr) != Word(GPT.ns.rawValue)),
        ]
        let ok = Evaluation.succeeds(conditions)
        m.setGranuleState(addr, .delegated, when: ok)
        m.setGranuleGPT(addr, Word(GPT.realm.rawValue), when: ok)
        m.setGranuleContent(addr, 0, when: ok)
        return Evaluation(conditions)
    }
}

/// RMI_GRANULE_UNDELEGATE (B4.3.7).
enum GranuleUndelegate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        let addr = c.x[0]
        let conditions = m.weakened(m.granuleArgument("gran", addr, is: .delegated).array, .weakenUndelegateAnyState, drop: "gran_state")
        let ok = Evaluation.succeeds(conditions)
        m.setGranuleState(addr, .undelegated, when: ok)
        m.setGranuleGPT(addr, Word(GPT.ns.rawValue), when: ok)
        m.setGranuleContent(addr, 0, when: ok && Bit(!m.options.contains(.weakenUndelegateNoWipe)))
        return Evaluation(conditions)
    }
}
