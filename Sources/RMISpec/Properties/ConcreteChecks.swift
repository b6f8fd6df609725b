/// Non-generic entry points for engines in other modules: the generic property code is
/// specialised for `SpecState` here, so a caller outside RMISpec does not run it through
/// generic metadata (which made explicit search about 100 times slower).
extension Invariant {
    public func holds(inState s: SpecState) -> Bool { holds(in: s).raw }
    public func covers(state s: SpecState) -> Bool { cover(in: s).raw }
    public func holds(onStep v: StepView<SpecState>) -> Bool { holds(on: v).raw }
    public func covers(step v: StepView<SpecState>) -> Bool { cover(on: v).raw }
}

extension SpecState {
    /// The level at which the walk of `ipa` in Realm `rd` stops (looking down to level 3).
    public func walkLevel(_ rd: UInt64, _ ipa: UInt64) -> Int64 {
        Int64(bitPattern: walk(CWord(rd), CWord(ipa), to: 3).level.raw)
    }
}
