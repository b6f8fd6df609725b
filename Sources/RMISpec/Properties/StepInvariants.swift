/// One step as the step invariants see it.
public struct StepView<M: Machine> {
    public var pre: M
    public var post: M
    public var command: RMICommand
    public var args: [Word<M.D>]
    public var succeeded: Bit<M.D>
    /// Whether the post-state equals the pre-state (the engine computes it).
    public var unchanged: Bit<M.D>
    public init(pre: M, post: M, command: RMICommand, args: [Word<M.D>], succeeded: Bit<M.D>, unchanged: Bit<M.D>) {
        self.pre = pre; self.post = post; self.command = command; self.args = args
        self.succeeded = succeeded; self.unchanged = unchanged
    }
}

extension Invariant {
    /// The invariant on one step (for `.step`); true for other kinds.
    @_specialize(where M == SpecState)
    public func holds<M: Machine>(on s: StepView<M>) -> Bit<M.D> {
        typealias W = Word<M.D>
        let pre = s.pre, post = s.post
        // Computed only by the properties that quantify over addresses (most steps need none).
        var addrs: [W] { post.stepAddresses(since: pre) }
        let bothRD = { (r: W) in pre.isState(r, .rd) && post.isState(r, .rd) }
        switch self {
        case .r6:
            return all(addrs, { r in
                let monotone = implies(bothRD(r), pre.realm(r, .state) <= post.realm(r, .state))
                let destroyed = implies(pre.isState(r, .rd) && !post.isState(r, .rd), Bit(s.command == .realmDestroy))
                return monotone && destroyed
            })
        case .r7:
            return all(addrs, { r in
                implies(bothRD(r) && !pre.realmIs(r, .new), pre.realm(r, .rim) == post.realm(r, .rim))
            })
        case .l1:
            guard s.command == .realmDestroy else { return Bit(true) }
            let rd = s.args[0]
            return implies(s.succeeded, all(post.addresses, { a in
                !(post.isState(a, .rec) && post.rec(a, .owner) == rd) && !(post.isState(a, .rtt) && post.rtt(a, .owner) == rd)
            }))
        case .l2:
            guard s.command == .granuleUndelegate else { return Bit(true) }
            return implies(s.succeeded, pre.isState(s.args[0], .delegated))
        case .l3:
            return all(addrs, { u in
                given(pre.isState(u, .rtt) && post.isState(u, .rtt)) { post.allEntryChanges(u, since: pre) { i, old, e in
                    let hasRipas = { (x: RttEntry<M.D>) in x.is(.unassigned) || x.is(.assigned) }
                    let changed = hasRipas(old) && hasRipas(e) && old.ripas != e.ripas
                    return implies(changed, Invariant.ripasChangeAllowed(s, realm: post.rtt(u, .owner), from: old.ripas, to: e.ripas))
                } }
            })
        case .l4:
            return implies(!s.succeeded, s.unchanged)
        default:
            return Bit(true)
        }
    }

    /// INV-L3's table: which command may move RIPAS from `from` to `to`, in which Realm state.
    @_specialize(where M == SpecState)
    static func ripasChangeAllowed<M: Machine>(_ s: StepView<M>, realm r: Word<M.D>, from: Word<M.D>, to: Word<M.D>) -> Bit<M.D> {
        typealias W = Word<M.D>
        let ram = W(Ripas.ram.rawValue), empty = W(Ripas.empty.rawValue), destroyed = W(Ripas.destroyed.rawValue)
        let isNew = s.pre.realmIs(r, .new)
        switch s.command {
        case .dataCreate, .rttInitRipas:
            return isNew && to == ram
        case .rttSetRipas:
            // Only on a pending Realm request, which exists only once the Realm ran.
            return !isNew && (to == ram || to == empty)
        case .dataDestroy:
            return to == destroyed && from == ram
        default:
            return Bit(false)
        }
    }

    /// The cover target of a step invariant: a step in which its premise holds.
    @_specialize(where M == SpecState)
    public func cover<M: Machine>(on s: StepView<M>) -> Bit<M.D> {
        switch self {
        case .r6: return Bit(s.command == .realmActivate || s.command == .realmDestroy) && s.succeeded
        case .r7: return any(s.pre.addresses, { s.pre.isState($0, .rd) && s.pre.realmIs($0, .active) }) && s.succeeded
        case .l1: return Bit(s.command == .realmDestroy) && s.succeeded
        case .l2: return Bit(s.command == .granuleUndelegate) && s.succeeded
        case .l3: return Bit(s.command == .rttInitRipas || s.command == .rttSetRipas || s.command == .dataDestroy) && s.succeeded
        case .l4: return !s.succeeded
        default: return Bit(true)
        }
    }
}
