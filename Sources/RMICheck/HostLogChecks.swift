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

    /// The checks on one call, given the spec's state before it; `destroyed` holds the RDs
    /// a successful REALM_DESTROY ended (and no REALM_CREATE made again) so far.
    public static func check(_ cmd: RMICommand, _ args: [UInt64], pre s: SpecState, destroyed: Set<UInt64>,
                             line: Int) -> [Violation] {
        var out: [Violation] = []
        func arg(_ name: String) -> UInt64? {
            guard let i = cmd.inputs.firstIndex(of: name), i < args.count else { return nil }
            return args[i]
        }
        func state(_ a: UInt64) -> GranuleState { s.granule(a).state }
        func flag(_ p: String, _ m: String) { out.append(Violation(property: p, line: line, message: m)) }
        let call = "\(cmd.rawValue)(\(args.map(hex).joined(separator: ", ")))"

        // P3 (and P4/P10's "only after the destroy"): undelegate only DELEGATED Granules.
        if cmd == .granuleUndelegate, let a = arg("addr"), state(a) != .delegated {
            flag("P3", "\(call) on a Granule in state \(state(a).specName), not DELEGATED")
        }
        // P10: REC_DESTROY only on REC Granules.
        if cmd == .recDestroy, let r = arg("rec_ptr"), state(r) != .rec {
            flag("P10", "\(call) on a Granule in state \(state(r).specName), not a REC")
        }
        // P19: no call uses an RD after its REALM_DESTROY.
        if let rd = arg("rd"), destroyed.contains(rd), cmd != .realmCreate {
            flag("P19", "\(call) uses RD \(hex(rd)) after its REALM_DESTROY")
        }
        func realmState(_ rd: UInt64) -> String {
            let v = s.realm(CWord(rd), .state).raw
            return RealmState(rawValue: v).map { "\($0)" } ?? "\(v)"
        }
        if let rd = arg("rd"), state(rd) == .rd {
            func isProtected(_ ipa: UInt64) -> Bool { s.isProtected(CWord(rd), CWord(ipa)).raw }
            let isNew = s.realm(CWord(rd), .state).raw == RealmState.new.rawValue
            // P13: unprotected mappings only at IPAs with the shared (top) bit set; DATA_* only without.
            if cmd == .rttMapUnprotected || cmd == .rttUnmapUnprotected, let ipa = arg("ipa"), isProtected(ipa) {
                flag("P13", "\(call): IPA \(hex(ipa)) is in the protected half of Realm \(hex(rd))")
            }
            if [.dataCreate, .dataCreateUnknown, .dataDestroy].contains(cmd), let ipa = arg("ipa"), !isProtected(ipa) {
                flag("P13", "\(call): IPA \(hex(ipa)) has the shared bit set")
            }
            // P8: what may happen only while the Realm is NEW. (Its "REC_ENTER only in ACTIVE"
            // is about the host's VM state, which a Realm in SYSTEM_OFF still has: not
            // checkable from the calls.)
            if [.rttInitRipas, .dataCreate, .recCreate, .realmActivate].contains(cmd), !isNew {
                flag("P8", "\(call) while Realm \(hex(rd)) is \(realmState(rd)), not NEW")
            }
            // P14: DATA_CREATE copies from an NS Granule into a DELEGATED one, not itself.
            if cmd == .dataCreate, let src = arg("src"), let dst = arg("data") {
                if src == dst { flag("P14", "\(call): source and destination are the same Granule") }
                else if state(src) != .undelegated { flag("P14", "\(call): source \(hex(src)) is \(state(src)), not NS memory") }
            }
        }
        return out
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
