import RMISpec

/// The host properties of the KVM host flow (reference section 7) that an RMI call log
/// shows by itself, checked on the spec's state before each call: what a host may issue,
/// whatever the RMM answers. (The others need the host's own state: page ownership, its
/// vCPUs; `rmi-check host` checks those on the model.)
public enum HostLogCheck {
    /// A property broken by the call at `line`.
    public struct Violation: Sendable, CustomStringConvertible {
        public var property: String
        public var line: Int
        public var message: String
        public var description: String { "\(property) at line \(line): \(message)" }
    }

    /// Every check on one call, given the spec's state before it: `rmmStateChecks` and P8 and
    /// P13 as the log shows them (from the Realm's state and IPA width in the RMM).
    /// `destroyed` holds the RDs a successful REALM_DESTROY ended so far.
    public static func check(_ cmd: RMICommand, _ args: [UInt64], pre s: SpecState, destroyed: Set<UInt64>,
                             line: Int) -> [Violation] {
        var out = rmmStateChecks(cmd, args, pre: s, destroyed: destroyed, line: line)
        let c = Call(cmd, args, s)
        func flag(_ p: String, _ m: String) { out.append(Violation(property: p, line: line, message: m)) }
        if let rd = c.arg("rd"), c.state(rd) == .rd {
            func isProtected(_ ipa: UInt64) -> Bool { s.isProtected(CWord(rd), CWord(ipa)).raw }
            // P13: unprotected mappings only at IPAs with the shared (top) bit set; DATA_* only without.
            if cmd == .rttMapUnprotected || cmd == .rttUnmapUnprotected, let ipa = c.arg("ipa"), isProtected(ipa) {
                flag("P13", "\(c.text): IPA \(hex(ipa)) is in the protected half of Realm \(hex(rd))")
            }
            if [.dataCreate, .dataCreateUnknown, .dataDestroy].contains(cmd), let ipa = c.arg("ipa"), !isProtected(ipa) {
                flag("P13", "\(c.text): IPA \(hex(ipa)) has the shared bit set")
            }
            // P8: what may happen only while the Realm is NEW. (Its "REC_ENTER only in ACTIVE"
            // is about the host's VM state, which a Realm in SYSTEM_OFF still has: not
            // checkable from the calls.)
            let v = s.realm(CWord(rd), .state).raw
            if [.rttInitRipas, .dataCreate, .recCreate, .realmActivate].contains(cmd), v != RealmState.new.rawValue {
                flag("P8", "\(c.text) while Realm \(hex(rd)) is \(RealmState(rawValue: v).map { "\($0)" } ?? "\(v)"), not NEW")
            }
        }
        return out
    }

    /// The checks that read only the call and the RMM's state, whoever looks: P3, P10, P14,
    /// P19. The host model (`KVMHost`) runs these too, and checks P8 and P13 on its own view
    /// (the VM's state and IPA layout).
    public static func rmmStateChecks(_ cmd: RMICommand, _ args: [UInt64], pre s: SpecState, destroyed: Set<UInt64>,
                                      line: Int) -> [Violation] {
        var out: [Violation] = []
        let c = Call(cmd, args, s)
        func flag(_ p: String, _ m: String) { out.append(Violation(property: p, line: line, message: m)) }
        // P3 (and P4/P10's "only after the destroy"): undelegate only DELEGATED Granules.
        if cmd == .granuleUndelegate, let a = c.arg("addr"), c.state(a) != .delegated {
            flag("P3", "\(c.text) on a Granule in state \(c.state(a).specName), not DELEGATED")
        }
        // P10: REC_DESTROY only on REC Granules.
        if cmd == .recDestroy, let r = c.arg("rec_ptr"), c.state(r) != .rec {
            flag("P10", "\(c.text) on a Granule in state \(c.state(r).specName), not a REC")
        }
        // P14: DATA_CREATE copies from NS memory into a DELEGATED Granule, not itself.
        if cmd == .dataCreate, let src = c.arg("src"), let dst = c.arg("data"),
           src == dst || c.state(src) != .undelegated || c.state(dst) != .delegated {
            flag("P14", "\(c.text): source \(hex(src)) is \(c.state(src).specName), destination \(hex(dst)) \(c.state(dst).specName)")
        }
        // P19: no call uses an RD after its REALM_DESTROY (unless a REALM_CREATE made it again).
        if let rd = c.arg("rd"), destroyed.contains(rd), c.state(rd) != .rd, cmd != .realmCreate {
            flag("P19", "\(c.text) uses RD \(hex(rd)) after its REALM_DESTROY")
        }
        return out
    }

    /// A call as the checks read it.
    private struct Call {
        let cmd: RMICommand, args: [UInt64], s: SpecState
        init(_ cmd: RMICommand, _ args: [UInt64], _ s: SpecState) { self.cmd = cmd; self.args = args; self.s = s }
        func arg(_ name: String) -> UInt64? {
            guard let i = cmd.inputs.firstIndex(of: name), i < args.count else { return nil }
            return args[i]
        }
        func state(_ a: UInt64) -> GranuleState { s.granule(a).state }
        var text: String { "\(cmd.rawValue)(\(args.map(hex).joined(separator: ", ")))" }
    }

    /// P1 at the end of a log that covers a complete teardown: every Granule is back in NS
    /// memory (UNDELEGATED) unless its undelegate failed (a WARN and a leak, `warned`).
    public static func conservation(_ s: SpecState, warned: Set<UInt64>, line: Int) -> [Violation] {
        s.granules.keys.sorted().compactMap { a -> Violation? in
            let st = s.granule(a).state
            guard st != .undelegated, !warned.contains(a) else { return nil }
            return Violation(property: "P1", line: line,
                             message: "Granule \(hex(a)) is still \(st) at the end of the teardown, with no failed undelegate")
        }
    }
}
