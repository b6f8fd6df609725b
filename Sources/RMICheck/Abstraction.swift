import RMISpec
import RMMImpl

/// The abstraction function: an RMMImpl state mapped to the spec's abstract state, so that
/// conformance compares states as well as results (refinement).
///
/// What it maps: every Granule's state and GPT entry; the content token (the page's last
/// word, see `BuiltinRMM.contentWord`) of UNDELEGATED and DATA Granules — a DELEGATED
/// Granule reads as zero, since the RMM scrubs it before anyone can see it; each Realm's
/// attributes; each REC's fields; each RTT of a Realm's tree with its level, owner, base IPA
/// and decoded entries. What it leaves out (`Abstraction.comparison`): the RIM, whose hash
/// is the implementation's own, and NS memory, which is the Host's.
public enum Abstraction {
    /// The parts of the state conformance compares.
    public static var comparison: StateComparison {
        var c = StateComparison()
        c.ns = false
        c.realmFields = RealmField.allCases.filter { $0 != .rim }
        return c
    }

    public static func abstractState(of rmm: RMM, platform: Platform) -> SpecState {
        var s = SpecState(platform: platform)
        func w(_ v: UInt64) -> CWord { CWord(v) }
        for pa in rmm.touchedGranules {
            guard let g = rmm.inspectGranule(pa) else { continue }
            let state = GranuleState(rawValue: UInt64(g.state.rawValue)) ?? .undelegated
            s.setGranuleGPT(w(pa), w(gpt(g.gpt).rawValue), when: true)
            s.setGranuleState(w(pa), state, when: true)
            if state == .undelegated || state == .data {
                s.setGranuleContent(w(pa), w(rmm.inspectWord(pa + BuiltinRMM.contentWord) ?? 0), when: true)
            }
            if state == .rd, let d = rmm.rd(at: pa) {
                let fields: [(RealmField, UInt64)] = [
                    (.state, UInt64(d.state.rawValue)), (.ipaWidth, UInt64(d.ipaWidth)),
                    (.levelStart, UInt64(bitPattern: Int64(d.startLevel))), (.numStart, UInt64(d.numStartRtts)),
                    (.rttBase, d.rttBase), (.lpa2, d.lpa2 ? 1 : 0), (.hashAlgo, d.hashAlgo), (.vmid, d.vmid),
                    (.rpv, d.rpv.first ?? 0), (.rim, d.rim), (.recIndex, d.recIndex), (.numRecs, d.numRecs),
                ]
                for (f, v) in fields { s.setRealm(w(pa), f, w(v), when: true) }
                for node in rmm.realmRtts(rd: pa) { addRtt(&s, node, owner: pa) }
            }
            if state == .rec, let r = rmm.rec(at: pa) {
                var fields: [(RecField, UInt64)] = [
                    (.owner, r.owner), (.state, r.running ? RecState.running.rawValue : RecState.ready.rawValue),
                    (.runnable, r.runnable ? 1 : 0), (.mpidr, r.mpidr), (.pc, r.pc),
                    (.psciPending, r.psciPending ? 1 : 0), (.emulatableAbort, r.emulatableAbort ? 1 : 0),
                    (.ripasAddr, r.ripasAddr), (.ripasTop, r.ripasTop), (.ripasValue, r.ripasValue),
                    (.ripasDestroyed, r.ripasChangeDestroyed ? 1 : 0), (.ripasResponse, r.ripasResponseReject ? 1 : 0),
                    (.hostCallPending, r.hostCallPending ? 1 : 0),
                    (.lastExit, r.lastExit.map { $0.rawValue + 1 } ?? 0), (.runPtr, r.running ? r.runPtr : 0),
                ]
                for (i, g) in r.gprs.prefix(RecField.gprCount).enumerated() { fields.append((.gpr(i), g)) }
                for (i, a) in r.aux.prefix(RecField.auxMax).enumerated() { fields.append((.aux(i), a)) }
                for (f, v) in fields { s.setRec(w(pa), f, w(v), when: true) }
            }
        }
        return s
    }

    static func addRtt(_ s: inout SpecState, _ node: RttNode, owner: UInt64) {
        let t = CWord(node.address)
        s.setRtt(t, .level, CWord(UInt64(bitPattern: Int64(node.level))), when: true)
        s.setRtt(t, .owner, CWord(owner), when: true)
        s.setRtt(t, .ipaBase, CWord(node.ipaBase), when: true)
        s.updateEntries(t, from: 0, to: 512, when: true) { i, _ in
            let v = RMM.decodeEntry(node.entries[Int(i.raw)], level: node.level)
            let state: RttEntryState = switch v.state {
            case .unassigned: .unassigned
            case .assigned: .assigned
            case .unassignedNS: .unassignedNS
            case .assignedNS: .assignedNS
            case .table: .table
            }
            return RttEntry(state: CWord(state.rawValue), ripas: CWord(v.ripas), addr: CWord(v.addr),
                            attrs: CWord(v.memAttr << 2 | v.s2ap << 6))
        }
    }

    static func gpt(_ g: RMM.GPT) -> GPT {
        switch g {
        case .ns: .ns
        case .realm: .realm
        case .secure: .secure
        case .root: .root
        case .any: .aap
        }
    }
}
