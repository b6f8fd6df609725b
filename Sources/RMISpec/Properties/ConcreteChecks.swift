/// Non-generic entry points for engines in other modules: the generic property code is
/// specialised for `SpecState` here, so a caller outside RMISpec does not run it through
/// generic metadata (which made explicit search about 100 times slower).
extension Invariant {
    public func holds(inState s: SpecState) -> Bool { holds(in: s).raw }
    public func covers(state s: SpecState) -> Bool { cover(in: s).raw }
    public func holds(onStep v: StepView<SpecState>) -> Bool { holds(on: v).raw }
    public func covers(step v: StepView<SpecState>) -> Bool { cover(on: v).raw }

    public func holds(inState s: PoolState) -> Bool { holds(in: s).raw }
    public func covers(state s: PoolState) -> Bool { cover(in: s).raw }
    /// Given `s.addresses`, which a caller checking several properties reads once.
    public func holds(inState s: PoolState, addresses: [CWord]) -> Bool { holds(in: s, addresses: addresses).raw }
    public func covers(state s: PoolState, addresses: [CWord]) -> Bool { cover(in: s, addresses: addresses).raw }
    public func holds(onStep v: StepView<PoolState>) -> Bool { holds(on: v).raw }
    public func covers(step v: StepView<PoolState>) -> Bool { cover(on: v).raw }
}
