import Testing
@testable import RMISpec

// Tests of the RTT commands (RTT_CREATE/DESTROY/FOLD, MAP/UNMAP_UNPROTECTED, READ_ENTRY) and
// the RIPAS commands (RTT_INIT_RIPAS, RTT_SET_RIPAS). Every failure label has at least one
// trace built from the initial state that reaches it.
//
// Default Scenario Realm: s2sz 40, SL 0, one level-0 starting RTT. Protected half
// [0, 2^39), unprotected half [2^39, 2^40).

private let GS: UInt64 = 0x1000
private let L2S: UInt64 = 0x20_0000          // Size(2)
private let L1S: UInt64 = 0x4000_0000        // Size(1)
private let L0S: UInt64 = 0x80_0000_0000     // Size(0)
private let NS: UInt64 = 0x80_0000_0000      // 2^39: first unprotected IPA for w = 40
private let nonDelegable: UInt64 = 0x1000
private let ramRipas = Ripas.ram.rawValue
private let attrsRW: UInt64 = (0b101 << 2) | (0b11 << 6)   // MemAttr 0b101, S2AP 0b11

private func lvl(_ l: Int64) -> UInt64 { UInt64(bitPattern: l) }

private func entry(_ st: SpecState, _ t: UInt64, _ i: UInt64) -> SpecState.Entry {
    st.rtts[t]?.entries[Int(i)] ?? .zero
}

private func newRealm(_ s: inout Scenario, s2sz: UInt64 = 40, sl: Int64 = 0, numStart: UInt64 = 1, vmid: UInt64 = 1)
    -> Scenario.RealmHandle {
    s.createRealm(s2sz: s2sz, sl: sl, numStart: numStart, vmid: vmid).0
}

private func newDelegated(_ s: inout Scenario) -> UInt64 {
    let g = s.granule()
    s.delegate(g)
    return g
}

// MARK: Label cases

/// A label case of an RTT or RIPAS command, with what its test (`RttCommandTests.labelCase`)
/// checks besides the hit: that the failing call changes nothing; with `only`, that no other
/// condition fails; with `sole`, that the label gives the only allowed result; `outputs`, the
/// failure outputs of its outcome; `check`, anything else about the result.
struct RttCase: Sendable, CustomTestStringConvertible {
    let command: RMICommand
    let label: String
    let status: Status
    let index: UInt64
    let only: Bool
    let sole: Bool
    let outputs: [UInt64?]?
    let check: (@Sendable (StepResult) -> Void)?
    let note: String
    /// The trace up to the call under test, and that call's arguments.
    let prepare: @Sendable () -> (Scenario, [UInt64])

    /// The trace that ends with the call.
    var labelCase: LabelCase {
        let prepare = prepare, command = command
        return LabelCase(command, label, status, index: index) {
            var (s, args) = prepare()
            s.call(command, args: args)
            return s
        }
    }
    var testDescription: String { "\(command.rawValue) \(label)" + (note.isEmpty ? "" : " (\(note))") }
}

/// Label cases of RTT_CREATE/DESTROY/FOLD, RTT_MAP/UNMAP_UNPROTECTED, RTT_READ_ENTRY,
/// RTT_INIT_RIPAS and RTT_SET_RIPAS: one trace per label (`cases`, `details`) and further
/// traces that reach a label another way (`more`).
enum RttLabelCases {
    static var cases: [LabelCase] { details.map(\.labelCase) }
    static var all: [RttCase] { details + more }

    private static func on(_ command: RMICommand, _ label: String, _ status: Status = .errorInput,
                           index: UInt64 = 0, only: Bool = true, sole: Bool = false, outputs: [UInt64?]? = nil,
                           note: String = "", platform: Platform = .standard,
                           check: (@Sendable (StepResult) -> Void)? = nil,
                           _ setup: @escaping @Sendable (inout Scenario) -> [UInt64]) -> RttCase {
        RttCase(command: command, label: label, status: status, index: index, only: only, sole: sole,
                outputs: outputs, check: check, note: note, prepare: {
                    var s = Scenario(platform: platform)
                    let args = setup(&s)
                    return (s, args)
                })
    }

    // Prefixes.

    /// A Realm (w = 40, SL 0) with RTTs for each IPA of `ipas` down to `level`.
    @discardableResult
    private static func realm(_ s: inout Scenario, tables ipas: [UInt64] = [], to level: Int64 = 3) -> Scenario.RealmHandle {
        let h = newRealm(&s)
        for ipa in ipas { addTables(&s, h.rd, ipa: ipa, to: level) }
        return h
    }

    /// Creates the RTTs for `ipa` down to `level` that do not exist yet (so that every call of
    /// the trace before the one under test succeeds).
    private static func addTables(_ s: inout Scenario, _ rd: UInt64, ipa: UInt64, to level: Int64) {
        guard level >= 1 else { return }
        for l in Int64(1)...level where s.state.walk(CWord(rd), CWord(ipa), to: CWord(lvl(l))).level.raw != lvl(l) {
            let parentEntrySize: UInt64 = 1 << UInt64(12 + 9 * (4 - l))
            s.call(.rttCreate, rd, newDelegated(&s), ipa & ~(parentEntrySize - 1), lvl(l))
        }
    }

    /// REC 0 of the Realm `h`, which is then activated, asks (RSI_IPA_STATE_SET) to change the
    /// RIPAS of [base, top) to `value`: REC_ENTER exits to the Host with the request pending.
    private static func ripasRequest(_ s: inout Scenario, _ h: Scenario.RealmHandle, base: UInt64, top: UInt64,
                                     value: Ripas = .ram) -> UInt64 {
        let rec = s.createRec(h, mpidr: 0).rec
        s.call(.realmActivate, h.rd)
        let run = s.granule()
        s.call(.recEnter, rec, run, writes: [.recRun(at: run, RecEnterValues())],
               realm: RealmActionValue(.ripasChange, [base, top, value.rawValue, 0]))
        return rec
    }

    /// A Realm with RTTs at IPA 0 down to `level` and a REC with a pending request to make
    /// [base, top) RAM.
    private static func withRequest(_ s: inout Scenario, level: Int64 = 3, base: UInt64, top: UInt64)
        -> (rd: UInt64, rec: UInt64) {
        let h = realm(&s, tables: [0], to: level)
        return (h.rd, ripasRequest(&s, h, base: base, top: top))
    }

    static var details: [RttCase] {
        var c: [RttCase] = []

        // RTT_CREATE: a Realm and a delegated Granule `t` for the new RTT.
        @Sendable func create(_ s: inout Scenario) -> (rd: UInt64, t: UInt64) {
            let h = realm(&s)
            return (h.rd, newDelegated(&s))
        }
        c.append(on(.rttCreate, "rd_align", only: false) { s in let (rd, t) = create(&s); return [rd + 1, t, 0, 1] })
        c.append(on(.rttCreate, "rd_bound", only: false) { s in let (_, t) = create(&s); return [nonDelegable, t, 0, 1] })
        c.append(on(.rttCreate, "rd_state") { s in let (_, t) = create(&s); return [newDelegated(&s), t, 0, 1] })
        // Level 0 is the starting level.
        c.append(on(.rttCreate, "level_bound") { s in let (rd, t) = create(&s); return [rd, t, 0, 0] })
        c.append(on(.rttCreate, "ipa_align") { s in let (rd, t) = create(&s); return [rd, t, GS, 1] })
        c.append(on(.rttCreate, "ipa_bound") { s in let (rd, t) = create(&s); return [rd, t, 1 << 40, 1] })
        c.append(on(.rttCreate, "rtt_align", only: false) { s in let (rd, t) = create(&s); return [rd, t + 0x10, 0, 1] })
        c.append(on(.rttCreate, "rtt_bound", only: false) { s in let (rd, _) = create(&s); return [rd, nonDelegable, 0, 1] })
        c.append(on(.rttCreate, "rtt_state") { s in let (rd, _) = create(&s); return [rd, s.granule(), 0, 1] })
        // A platform with delegable memory above 2^48, so that only rtt_bound2 fails.
        let high: UInt64 = 1 << 48
        let highPlatform = Platform(delegable: [.init(base: 0x8000_0000, size: 0x4000_0000), .init(base: high, size: 0x10_0000)])
        c.append(on(.rttCreate, "rtt_bound2", platform: highPlatform) { s in
            let h = realm(&s)
            s.delegate(high)
            return [h.rd, high, 0, 1]
        })
        // No level-1 RTT: the walk to level 2 stops at level 0.
        c.append(on(.rttCreate, "rtt_walk", .errorRtt, index: 0) { s in let (rd, t) = create(&s); return [rd, t, 0, 3] })
        // The level-1 RTT exists: the parent entry is TABLE.
        c.append(on(.rttCreate, "rtte_state", .errorRtt, index: 0) { s in
            let h = realm(&s, tables: [0], to: 1)
            return [h.rd, newDelegated(&s), 0, 1]
        })

        // RTT_DESTROY: the input failures give top = 0. With rd_state / ipa_bound the walk finds
        // no TABLE entry (rtte_state), which they precede.
        c.append(on(.rttDestroy, "rd_align", only: false, outputs: [nil, 0]) { s in
            let h = realm(&s, tables: [0]); return [h.rd + 1, 0, 3]
        })
        c.append(on(.rttDestroy, "rd_bound", only: false, outputs: [nil, 0]) { s in
            realm(&s, tables: [0]); return [nonDelegable, 0, 3]
        })
        c.append(on(.rttDestroy, "rd_state", only: false, sole: true, outputs: [nil, 0]) { s in
            realm(&s, tables: [0]); return [newDelegated(&s), 0, 1]
        })
        c.append(on(.rttDestroy, "level_bound", sole: true, outputs: [nil, 0]) { s in
            let h = realm(&s, tables: [0]); return [h.rd, 0, 0]
        })
        c.append(on(.rttDestroy, "ipa_align", sole: true, outputs: [nil, 0]) { s in
            let h = realm(&s, tables: [0]); return [h.rd, GS, 3]
        })
        c.append(on(.rttDestroy, "ipa_bound", only: false, sole: true, outputs: [nil, 0]) { s in
            let h = realm(&s, tables: [0]); return [h.rd, 1 << 40, 1]
        })
        // No level-2 RTT: the walk to level 2 stops at level 1, at an UNASSIGNED entry
        // (rtte_state holds too, with the same result). No live entry in the level-1 RTT: top
        // is the end of the RTT.
        c.append(on(.rttDestroy, "rtt_walk", .errorRtt, index: 1, only: false, sole: true, outputs: [nil, L0S],
                    check: { r in #expect(r.failing == ["rtt_walk", "rtte_state"]) }) { s in
            let h = realm(&s, tables: [0], to: 1); return [h.rd, 0, 3]
        })
        // The walk reaches level 1, the entry is not TABLE.
        c.append(on(.rttDestroy, "rtte_state", .errorRtt, index: 1, outputs: [nil, L0S]) { s in
            let h = realm(&s, tables: [0], to: 1); return [h.rd, 5 * L1S, 2]
        })
        c.append(on(.rttDestroy, "rtt_live", .errorRtt, index: 2, outputs: [nil, 0]) { s in
            let h = realm(&s, tables: [0]); return [h.rd, 0, 2]
        })

        // RTT_FOLD
        c.append(on(.rttFold, "rd_align", only: false) { s in let h = realm(&s, tables: [0]); return [h.rd + 1, 0, 3] })
        c.append(on(.rttFold, "rd_bound", only: false) { s in realm(&s, tables: [0]); return [nonDelegable, 0, 3] })
        // Not an RD: the walk finds no TABLE entry either (rtte_state, ordered after rd_state).
        c.append(on(.rttFold, "rd_state", only: false, sole: true) { s in
            realm(&s, tables: [0]); return [newDelegated(&s), 0, 1]
        })
        c.append(on(.rttFold, "level_bound") { s in let h = realm(&s, tables: [0]); return [h.rd, 0, 0] })
        c.append(on(.rttFold, "ipa_align") { s in let h = realm(&s, tables: [0]); return [h.rd, GS, 3] })
        // Entries past 2^w are never TABLE.
        c.append(on(.rttFold, "ipa_bound", only: false, sole: true) { s in
            let h = realm(&s, tables: [0]); return [h.rd, 1 << 40, 1]
        })
        c.append(on(.rttFold, "rtt_walk", .errorRtt, index: 1, only: false, sole: true) { s in
            let h = realm(&s, tables: [0], to: 1); return [h.rd, 0, 3]
        })
        c.append(on(.rttFold, "rtte_state", .errorRtt, index: 1) { s in
            let h = realm(&s, tables: [0], to: 1); return [h.rd, 0, 2]
        })
        // Entry 0 RAM, the rest EMPTY.
        c.append(on(.rttFold, "rtt_homo", .errorRtt, index: 3) { s in
            let h = realm(&s, tables: [0])
            s.call(.rttInitRipas, h.rd, 0, GS)
            return [h.rd, 0, 3]
        })

        // RTT_MAP_UNPROTECTED: RTTs at the first unprotected IPA down to level 3.
        let pa: UInt64 = 0x2000_0000
        c.append(on(.rttMapUnprotected, "attr_valid") { s in let h = realm(&s, tables: [NS]); return [h.rd, NS, 3, pa | 1] })
        c.append(on(.rttMapUnprotected, "rd_align", only: false) { s in let h = realm(&s, tables: [NS]); return [h.rd + 1, NS, 3, 0] })
        c.append(on(.rttMapUnprotected, "rd_bound", only: false) { s in realm(&s, tables: [NS]); return [nonDelegable, NS, 3, 0] })
        c.append(on(.rttMapUnprotected, "rd_state", only: false) { s in
            realm(&s, tables: [NS]); return [newDelegated(&s), NS, 3, 0]
        })
        // Level 0 has no blocks (the level-0 entry at NS is UNASSIGNED_NS, so only level_bound fails).
        c.append(on(.rttMapUnprotected, "level_bound") { s in let h = realm(&s); return [h.rd, NS, 0, 0] })
        // A 2 MB block needs a 2 MB aligned address.
        c.append(on(.rttMapUnprotected, "addr_align") { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS + L2S, 2, 0x1000 | attrsRW]
        })
        // No LPA2: the output address is below 2^48.
        c.append(on(.rttMapUnprotected, "addr_bound") { s in let h = realm(&s, tables: [NS]); return [h.rd, NS, 3, 1 << 48] })
        c.append(on(.rttMapUnprotected, "ipa_align") { s in
            let h = realm(&s, tables: [NS, 0]); return [h.rd, NS + 0x800, 3, 0]
        })
        // A Protected IPA: the entry there is UNASSIGNED, but ipa_bound precedes rtte_state.
        c.append(on(.rttMapUnprotected, "ipa_bound", only: false, sole: true,
                    check: { r in #expect(r.failing == ["ipa_bound", "rtte_state"]) }) { s in
            let h = realm(&s, tables: [NS, 0]); return [h.rd, 0, 3, 0]
        })
        c.append(on(.rttMapUnprotected, "rtt_walk", .errorRtt, index: 0) { s in let h = realm(&s); return [h.rd, NS, 3, 0] })
        // Already mapped.
        c.append(on(.rttMapUnprotected, "rtte_state", .errorRtt, index: 2) { s in
            let h = realm(&s, tables: [NS], to: 2)
            s.call(.rttMapUnprotected, h.rd, NS, 2, 0)
            return [h.rd, NS, 2, L2S]
        })

        // RTT_UNMAP_UNPROTECTED: a level-2 block mapped at NS + 2 MB. The input failures give
        // top = 0. A level-0 entry is never ASSIGNED_NS, and the walk to level 4 stops early:
        // level_bound never fails alone, but it precedes the walk conditions.
        @Sendable func mapped(_ s: inout Scenario) -> (rd: UInt64, ipa: UInt64) {
            let h = realm(&s, tables: [NS], to: 2)
            s.call(.rttMapUnprotected, h.rd, NS + L2S, 2, 0)
            return (h.rd, NS + L2S)
        }
        c.append(on(.rttUnmapUnprotected, "rd_align", only: false, outputs: [0]) { s in
            let (rd, ipa) = mapped(&s); return [rd + 1, ipa, 2]
        })
        c.append(on(.rttUnmapUnprotected, "rd_bound", only: false, outputs: [0]) { s in
            let (_, ipa) = mapped(&s); return [nonDelegable, ipa, 2]
        })
        c.append(on(.rttUnmapUnprotected, "rd_state", only: false, sole: true, outputs: [0]) { s in
            let (_, ipa) = mapped(&s); return [newDelegated(&s), ipa, 2]
        })
        c.append(on(.rttUnmapUnprotected, "level_bound", only: false, sole: true, outputs: [0]) { s in
            let (rd, _) = mapped(&s); return [rd, NS, 0]
        })
        c.append(on(.rttUnmapUnprotected, "ipa_align", sole: true, outputs: [0]) { s in
            let (rd, ipa) = mapped(&s); return [rd, ipa + GS, 2]
        })
        c.append(on(.rttUnmapUnprotected, "ipa_bound", only: false, sole: true, outputs: [0]) { s in
            let (rd, _) = mapped(&s); return [rd, L2S, 2]
        })
        // Mapped by a block at a lower level: (RTT, 2), top == ipa.
        c.append(on(.rttUnmapUnprotected, "rtt_walk", .errorRtt, index: 2, outputs: [NS + L2S + 4 * GS]) { s in
            let h = realm(&s, tables: [NS])
            s.call(.rttMapUnprotected, h.rd, NS + L2S, 2, L2S * 9)
            return [h.rd, NS + L2S + 4 * GS, 3]
        })
        // Not mapped: (RTT, 3), top past the non-live run.
        c.append(on(.rttUnmapUnprotected, "rtte_state", .errorRtt, index: 3, outputs: [NS + L2S]) { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS + 3 * GS, 3]
        })

        // RTT_READ_ENTRY
        c.append(on(.rttReadEntry, "rd_align", only: false) { s in let h = realm(&s); return [h.rd + 1, 0, 0] })
        c.append(on(.rttReadEntry, "rd_bound", only: false) { s in realm(&s); return [nonDelegable, 0, 0] })
        c.append(on(.rttReadEntry, "rd_state") { s in realm(&s); return [newDelegated(&s), 0, 0] })
        c.append(on(.rttReadEntry, "level_bound") { s in let h = realm(&s); return [h.rd, 0, lvl(-1)] })
        c.append(on(.rttReadEntry, "ipa_align") { s in let h = realm(&s); return [h.rd, GS, 2] })
        c.append(on(.rttReadEntry, "ipa_bound") { s in let h = realm(&s); return [h.rd, 1 << 40, 0] })

        // RTT_INIT_RIPAS: RTTs at 0 and at the last protected page.
        @Sendable func initRealm(_ s: inout Scenario) -> UInt64 { realm(&s, tables: [0, NS - GS]).rd }
        c.append(on(.rttInitRipas, "rd_align", only: false) { s in let rd = initRealm(&s); return [rd + 1, 0, GS] })
        c.append(on(.rttInitRipas, "rd_bound", only: false) { s in _ = initRealm(&s); return [nonDelegable, 0, GS] })
        c.append(on(.rttInitRipas, "rd_state", only: false) { s in _ = initRealm(&s); return [newDelegated(&s), 0, GS] })
        c.append(on(.rttInitRipas, "size_valid") { s in let rd = initRealm(&s); return [rd, 2 * GS, GS] })
        // The last page of the range is unprotected.
        c.append(on(.rttInitRipas, "top_bound") { s in let rd = initRealm(&s); return [rd, NS - GS, NS + GS] })
        c.append(on(.rttInitRipas, "realm_state", .errorRealm) { s in
            let h = realm(&s, tables: [0])
            s.call(.realmActivate, h.rd)
            return [h.rd, 0, GS]
        })
        // The walk stops at level 0: base must be 512 GB aligned.
        c.append(on(.rttInitRipas, "base_align", .errorRtt, index: 0) { s in let h = realm(&s); return [h.rd, GS, 2 * GS] })
        // An unprotected base (top unaligned so that top - 4K is still protected).
        c.append(on(.rttInitRipas, "rtte_state", .errorRtt, index: 0, only: false, check: { r in
            #expect(Set(r.failing) == ["rtte_state", "top_gran_align", "no_progress"])
            #expect(Set(r.allowed.compactMap(\.label)) == ["rtte_state", "top_gran_align"])
        }) { s in
            let h = realm(&s, tables: [0], to: 2); return [h.rd, NS, NS + 0x800]
        })
        c.append(on(.rttInitRipas, "top_gran_align") { s in let rd = initRealm(&s); return [rd, 0, 0x1800] })
        // A 2 MB block cannot be partly initialised.
        c.append(on(.rttInitRipas, "no_progress", .errorRtt, index: 2) { s in
            let h = realm(&s, tables: [0], to: 2); return [h.rd, 0, GS]
        })

        // RTT_SET_RIPAS: a REC with a pending request to make [0, 16K) RAM, `other` a delegated
        // Granule that is neither an RD nor a REC.
        @Sendable func request(_ s: inout Scenario) -> (rd: UInt64, rec: UInt64, other: UInt64) {
            let (rd, rec) = withRequest(&s, base: 0, top: 4 * GS)
            return (rd, rec, newDelegated(&s))
        }
        c.append(on(.rttSetRipas, "rd_align", only: false) { s in let x = request(&s); return [x.rd + 1, x.rec, 0, GS] })
        c.append(on(.rttSetRipas, "rd_bound", only: false) { s in let x = request(&s); return [nonDelegable, x.rec, 0, GS] })
        // The REC's owner is not `other` (rec_owner), and the walk in a non-Realm makes no
        // progress (no_progress, after rd_state).
        c.append(on(.rttSetRipas, "rd_state", only: false, check: { r in
            #expect(r.failing == ["rd_state", "rec_owner", "no_progress"])
            #expect(Set(r.allowed.compactMap(\.label)) == ["rd_state", "rec_owner"])
        }) { s in let x = request(&s); return [x.other, x.rec, 0, GS] })
        c.append(on(.rttSetRipas, "rec_align", only: false) { s in let x = request(&s); return [x.rd, x.rec + 8, 0, GS] })
        c.append(on(.rttSetRipas, "rec_bound", only: false) { s in let x = request(&s); return [x.rd, nonDelegable, 0, GS] })
        // A delegated Granule that is not a REC reads as a REC with all fields 0.
        c.append(on(.rttSetRipas, "rec_gran_state", only: false, check: { r in
            #expect(!r.allowed.contains { $0.label == "rec_owner" })
        }) { s in let x = request(&s); return [x.rd, x.other, 0, GS] })
        // The REC runs (`stay_running`) with its request still open.
        c.append(on(.rttSetRipas, "rec_state", .errorRec) { s in
            let (rd, rec) = withRequest(&s, base: 0, top: 4 * GS)
            let run = s.granule()
            s.call(.recEnter, rec, run, writes: [.recRun(at: run, RecEnterValues())], realm: RealmActionValue(.stayRunning))
            return [rd, rec, 0, GS]
        })
        // The request is the REC's of a second Realm.
        c.append(on(.rttSetRipas, "rec_owner", .errorRec) { s in
            let h = realm(&s, tables: [0])
            let h2 = newRealm(&s, vmid: 2)
            let rec = ripasRequest(&s, h2, base: 0, top: 4 * GS)
            return [h.rd, rec, 0, GS]
        })
        // A request for [8K, 32K).
        @Sendable func range(_ s: inout Scenario) -> (rd: UInt64, rec: UInt64) { withRequest(&s, base: 2 * GS, top: 8 * GS) }
        c.append(on(.rttSetRipas, "size_valid") { s in let x = range(&s); return [x.rd, x.rec, 2 * GS, GS] })
        c.append(on(.rttSetRipas, "base_bound") { s in let x = range(&s); return [x.rd, x.rec, 3 * GS, 4 * GS] })
        c.append(on(.rttSetRipas, "top_bound") { s in let x = range(&s); return [x.rd, x.rec, 2 * GS, 9 * GS] })
        c.append(on(.rttSetRipas, "top_gran_align") { s in let x = range(&s); return [x.rd, x.rec, 2 * GS, 3 * GS + 0x800] })
        // Level-2 blocks only: base inside a 2 MB block whose RIPAS (EMPTY) is not the requested one.
        c.append(on(.rttSetRipas, "base_align", .errorRtt, index: 2) { s in
            let x = withRequest(&s, level: 2, base: GS, top: 3 * GS); return [x.rd, x.rec, GS, 3 * GS]
        })
        // base aligned, top inside the block: no progress.
        c.append(on(.rttSetRipas, "no_progress", .errorRtt, index: 2) { s in
            let x = withRequest(&s, level: 2, base: 0, top: 3 * GS); return [x.rd, x.rec, 0, 3 * GS]
        })
        return c
    }

    /// Further traces to labels that have a case: other arguments, other states, the ordering
    /// of conditions.
    static var more: [RttCase] {
        var c: [RttCase] = []
        // RTT_CREATE
        @Sendable func create(_ s: inout Scenario) -> (rd: UInt64, t: UInt64) {
            let h = realm(&s)
            return (h.rd, newDelegated(&s))
        }
        // Level 4: the walk to level 3 also stops early, but level_bound precedes rtt_walk.
        c.append(on(.rttCreate, "level_bound", only: false, sole: true, note: "level 4") { s in
            let (rd, t) = create(&s); return [rd, t, 0, 4]
        })
        c.append(on(.rttCreate, "level_bound", only: false, note: "level -1") { s in
            let (rd, t) = create(&s); return [rd, t, 0, lvl(-1)]
        })
        c.append(on(.rttCreate, "rtt_state", note: "the RD") { s in let (rd, _) = create(&s); return [rd, rd, 0, 1] })
        c.append(on(.rttCreate, "rtt_walk", .errorRtt, index: 1, note: "stops at level 1") { s in
            let h = realm(&s, tables: [0], to: 1); return [h.rd, newDelegated(&s), 0, 3]
        })

        // RTT_DESTROY
        // A live entry further on in the same RTT: top is its IPA.
        c.append(on(.rttDestroy, "rtte_state", .errorRtt, index: 1, outputs: [nil, 9 * L1S], note: "live entry further on") { s in
            let h = realm(&s, tables: [0], to: 1)
            addTables(&s, h.rd, ipa: 9 * L1S, to: 2)
            return [h.rd, 5 * L1S, 2]
        })
        c.append(on(.rttDestroy, "rtt_live", .errorRtt, index: 1, outputs: [nil, 0], note: "level 1") { s in
            let h = realm(&s, tables: [0]); return [h.rd, 0, 1]
        })

        // RTT_FOLD: a level-2 RTT with a TABLE entry.
        c.append(on(.rttFold, "rtt_homo", .errorRtt, index: 2, note: "level 2, TABLE entry") { s in
            let h = realm(&s, tables: [0])
            s.call(.rttInitRipas, h.rd, 0, GS)
            return [h.rd, 0, 2]
        })

        // RTT_MAP_UNPROTECTED
        let pa: UInt64 = 0x2000_0000
        for bad in [pa | 0b11, pa | (1 << 10), pa | (1 << 55), pa | (1 << 52), pa | 0x800,
                    pa | Layout.descMemAttrReserved, pa | Layout.descMemAttrReserved | Layout.descS2APMask] {
            c.append(on(.rttMapUnprotected, "attr_valid", note: hex(bad)) { s in
                let h = realm(&s, tables: [NS]); return [h.rd, NS, 3, bad]
            })
        }
        c.append(on(.rttMapUnprotected, "level_bound", only: false, sole: true, note: "level 0 with RTTs") { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS, 0, 0]
        })
        c.append(on(.rttMapUnprotected, "level_bound", only: false, sole: true, note: "level 4") { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS, 4, 0]
        })
        c.append(on(.rttMapUnprotected, "addr_align", note: "1 GB block") { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS + L1S, 1, L2S]
        })
        c.append(on(.rttMapUnprotected, "addr_bound", note: "52-bit address") { s in
            let h = realm(&s, tables: [NS]); return [h.rd, NS, 3, 0x000F_FFFF_FFFF_F000]
        })
        c.append(on(.rttMapUnprotected, "ipa_align", note: "level 2") { s in
            let h = realm(&s, tables: [NS, 0]); return [h.rd, NS + L2S + GS, 2, 0]
        })
        c.append(on(.rttMapUnprotected, "ipa_align", note: "level 1") { s in
            let h = realm(&s, tables: [NS, 0]); return [h.rd, NS + L1S + L2S, 1, 0]
        })
        // Past 2^w the walk stops at level 0 (rtt_walk, after ipa_bound).
        c.append(on(.rttMapUnprotected, "ipa_bound", only: false, sole: true, note: "past 2^w") { s in
            let h = realm(&s, tables: [NS, 0]); return [h.rd, 1 << 40, 1, 0]
        })
        c.append(on(.rttMapUnprotected, "rtt_walk", .errorRtt, index: 2, note: "stops at level 2") { s in
            let h = realm(&s, tables: [NS], to: 2); return [h.rd, NS, 3, 0]
        })
        // The walk to level 3 stops at the level-2 block, which is not UNASSIGNED_NS either.
        c.append(on(.rttMapUnprotected, "rtt_walk", .errorRtt, index: 2, only: false, note: "at a block",
                    check: { r in #expect(r.failing == ["rtt_walk", "rtte_state"]) }) { s in
            let h = realm(&s, tables: [NS], to: 2)
            s.call(.rttMapUnprotected, h.rd, NS, 2, 0)
            return [h.rd, NS, 3, 0]
        })

        // RTT_UNMAP_UNPROTECTED
        @Sendable func mapped(_ s: inout Scenario) -> (rd: UInt64, ipa: UInt64) {
            let h = realm(&s, tables: [NS], to: 2)
            s.call(.rttMapUnprotected, h.rd, NS + L2S, 2, 0)
            return (h.rd, NS + L2S)
        }
        c.append(on(.rttUnmapUnprotected, "level_bound", only: false, sole: true, outputs: [0], note: "level 4") { s in
            let (rd, ipa) = mapped(&s); return [rd, ipa, 4]
        })
        c.append(on(.rttUnmapUnprotected, "ipa_bound", only: false, sole: true, outputs: [0], note: "past 2^w") { s in
            let (rd, _) = mapped(&s); return [rd, 1 << 40, 1]
        })
        // Walk stops early at an UNASSIGNED_NS entry: both conditions, top > ipa.
        c.append(on(.rttUnmapUnprotected, "rtt_walk", .errorRtt, index: 2, only: false, outputs: [NS + L1S],
                    note: "at UNASSIGNED_NS", check: { r in #expect(r.failing == ["rtt_walk", "rtte_state"]) }) { s in
            let h = realm(&s, tables: [NS])
            s.call(.rttMapUnprotected, h.rd, NS + L2S, 2, L2S * 9)
            return [h.rd, NS + 2 * L2S, 3]
        })

        // RTT_READ_ENTRY
        c.append(on(.rttReadEntry, "level_bound", only: false, note: "level 4") { s in let h = realm(&s); return [h.rd, 0, 4] })

        // RTT_INIT_RIPAS
        @Sendable func initRealm(_ s: inout Scenario) -> UInt64 { realm(&s, tables: [0, NS - GS]).rd }
        c.append(on(.rttInitRipas, "size_valid", only: false, note: "top == base") { s in
            let rd = initRealm(&s); return [rd, GS, GS]
        })
        // top == 0: size_valid, and top - 4K wraps.
        c.append(on(.rttInitRipas, "size_valid", only: false, note: "top == 0",
                    check: { r in #expect(r.failing.contains("top_bound")) }) { s in
            let rd = initRealm(&s); return [rd, 0, 0]
        })
        c.append(on(.rttInitRipas, "base_align", .errorRtt, index: 2, note: "level 2") { s in
            let h = realm(&s, tables: [0], to: 2); return [h.rd, GS, 2 * GS]
        })

        // RTT_SET_RIPAS, level-2 blocks only.
        // base_bound precedes base_align.
        c.append(on(.rttSetRipas, "base_bound", only: false, sole: true, note: "before base_align",
                    check: { r in #expect(r.failing == ["base_bound", "base_align"]) }) { s in
            let x = withRequest(&s, level: 2, base: 0, top: 3 * GS); return [x.rd, x.rec, GS, 3 * GS]
        })
        // top_gran_align precedes no_progress.
        c.append(on(.rttSetRipas, "top_gran_align", only: false, sole: true, note: "before no_progress",
                    check: { r in #expect(r.failing == ["top_gran_align", "no_progress"]) }) { s in
            let x = withRequest(&s, level: 2, base: 0, top: 3 * GS); return [x.rd, x.rec, 0, 0x800]
        })
        return c
    }
}

@Suite struct RttCommandTests {

    // MARK: Helpers (members, so that they shadow any global helper of the same name)

    func expectHit(_ r: StepResult, _ label: String, _ status: Status, index: UInt64 = 0, only: Bool = true,
                   sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.failing.contains(label), "\(label) does not hold; failing: \(r.failing)",
                sourceLocation: sourceLocation)
        let o = r.allowed.first { $0.label == label }
        #expect(o != nil, "\(label) is not an allowed result: \(r.allowed)", sourceLocation: sourceLocation)
        #expect(o?.status == status, sourceLocation: sourceLocation)
        #expect((o?.index ?? 0) & 0xFF == index & 0xFF, "index", sourceLocation: sourceLocation)
        if only {
            #expect(r.failing == [label], "more than \(label) fails: \(r.failing)", sourceLocation: sourceLocation)
        }
    }

    func expectSuccess(_ r: StepResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.succeeded, "failing: \(r.failing)", sourceLocation: sourceLocation)
        #expect(r.canonical.status == .success, sourceLocation: sourceLocation)
    }

    /// Calls, checks the hit, and checks that the failing call changed nothing (INV-L4).
    @discardableResult
    /// With `only: false`, `sole: true` still requires the label to be the only allowed
    /// result (the other failing conditions come after it in the ordering).
    func hit(_ s: inout Scenario, _ cmd: RMICommand, _ args: [UInt64], _ label: String, _ status: Status,
             index: UInt64 = 0, only: Bool = true, sole: Bool = false,
             sourceLocation: SourceLocation = #_sourceLocation) -> StepResult {
        let before = s.state
        let r = s.call(cmd, args: args)
        expectHit(r, label, status, index: index, only: only, sourceLocation: sourceLocation)
        if sole { #expect(r.allowed.count == 1, "allowed: \(r.allowed)", sourceLocation: sourceLocation) }
        #expect(r.next == before, "a failing call changed the state", sourceLocation: sourceLocation)
        return r
    }

    /// The failure outputs of the outcome `label` gives.
    func outputs(_ r: StepResult, _ label: String) -> [UInt64?] {
        r.allowed.first { $0.label == label }?.outputs ?? []
    }

    func realm(_ s: inout Scenario, s2sz: UInt64 = 40, sl: Int64 = 0, numStart: UInt64 = 1, vmid: UInt64 = 1)
        -> Scenario.RealmHandle {
        let (h, r) = s.createRealm(s2sz: s2sz, sl: sl, numStart: numStart, vmid: vmid)
        #expect(r.succeeded, "REALM_CREATE failed: \(r.allowed)")
        return h
    }

    func delegated(_ s: inout Scenario) -> UInt64 {
        let g = s.granule()
        s.delegate(g)
        return g
    }

    // MARK: Label lists

    @Test func labelLists() {
        let expected: [RMICommand: [String]] = [
            .rttCreate: ["rd_align", "rd_bound", "rd_state", "level_bound", "ipa_align", "ipa_bound",
                         "rtt_align", "rtt_bound", "rtt_state", "rtt_bound2", "rtt_walk", "rtte_state"],
            .rttDestroy: ["rd_align", "rd_bound", "rd_state", "level_bound", "ipa_align", "ipa_bound",
                          "rtt_walk", "rtte_state", "rtt_live"],
            .rttFold: ["rd_align", "rd_bound", "rd_state", "level_bound", "ipa_align", "ipa_bound",
                       "rtt_walk", "rtte_state", "rtt_homo"],
            .rttMapUnprotected: ["attr_valid", "rd_align", "rd_bound", "rd_state", "level_bound", "addr_align",
                                 "addr_bound", "ipa_align", "ipa_bound", "rtt_walk", "rtte_state"],
            .rttUnmapUnprotected: ["rd_align", "rd_bound", "rd_state", "level_bound", "ipa_align", "ipa_bound",
                                   "rtt_walk", "rtte_state"],
            .rttReadEntry: ["rd_align", "rd_bound", "rd_state", "level_bound", "ipa_align", "ipa_bound"],
            .rttInitRipas: ["rd_align", "rd_bound", "rd_state", "size_valid", "top_bound", "realm_state",
                            "base_align", "rtte_state", "top_gran_align", "no_progress"],
            .rttSetRipas: ["rd_align", "rd_bound", "rd_state", "rec_align", "rec_bound", "rec_gran_state",
                           "rec_state", "rec_owner", "size_valid", "base_bound", "top_bound", "base_align",
                           "top_gran_align", "no_progress"],
        ]
        var total = 0
        for (cmd, labels) in expected {
            #expect(RMISpec.conditions(of: cmd).map(\.label) == labels, "\(cmd)")
            total += labels.count
            // Every label of an ordering constraint is a condition of the command.
            for (a, b) in cmd.ordering { for l in a + b { #expect(labels.contains(l), "\(cmd): \(l)") } }
        }
        #expect(total == 79)
    }

    // MARK: Label cases

    /// Each label case (`RttLabelCases`) and each further trace to a label: the hit, what
    /// else the case states, and that the failing call changes nothing.
    @Test(arguments: RttLabelCases.all)
    func labelCase(_ x: RttCase) {
        var (s, args) = x.prepare()
        #expect(s.trace.steps.allSatisfy { step in
            if case .call(let c) = step { return c.expect?.status == .success }
            return true
        }, "a step before the call under test failed")
        let r = hit(&s, x.command, args, x.label, x.status, index: x.index, only: x.only, sole: x.sole)
        if let o = x.outputs { #expect(outputs(r, x.label) == o) }
        x.check?(r)
    }

    // MARK: RTT_CREATE

    @Test func createLevels1To3() {
        var s = Scenario()
        let h = realm(&s)
        let ipa: UInt64 = 0x12_3456_7000
        let rtts = s.createRtts(h, ipa: ipa, to: 3)
        #expect(rtts.count == 3)
        let st = s.state
        var parent = h.startingRtts[0]
        for l: Int64 in 1...3 {
            let t = rtts[l]!
            let parentSize: UInt64 = 1 << UInt64(12 + 9 * (3 - (l - 1)))
            #expect(st.granule(t).state == .rtt)
            #expect(st.rtts[t]?.level == UInt64(l))
            #expect(st.rtts[t]?.owner == h.rd)
            #expect(st.rtts[t]?.ipaBase == ipa & ~(parentSize - 1))
            let pi = (ipa / parentSize) % 512
            let pe = entry(st, parent, pi)
            #expect(pe.entryState == .table && pe.addr == t && pe.ripas == 0 && pe.attrs == 0)
            // Unfold of an UNASSIGNED/EMPTY entry (but for the entry of the next RTT down).
            let own: UInt64 = l < 3 ? (ipa >> UInt64(12 + 9 * (3 - l))) % 512 : 512
            #expect(st.rtts[t]!.entries.enumerated().allSatisfy { i, e in UInt64(i) == own || e == .zero })
            parent = t
        }
        // READ_ENTRY sees the tables.
        let r = s.call(.rttReadEntry, h.rd, ipa & ~(L0S - 1), 0)
        expectSuccess(r)
        #expect(r.canonical.outputs == [0, 2, rtts[1]!, 0])
    }

    @Test func createUnprotectedUnfoldsUnassignedNS() {
        var s = Scenario()
        let h = realm(&s)
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, NS, 1))
        #expect(s.state.rtts[t]!.entries.allSatisfy { $0.entryState == .unassignedNS && $0.ripas == 0 })
        #expect(entry(s.state, h.startingRtts[0], 1).entryState == .table)
    }

    @Test func createUnfoldsRipasAndDestroyed() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 2)
        // Level-2 entry 0 (2 MB block at 0) RAM, entry 1 DESTROYED (RTT destroyed under it).
        expectSuccess(s.call(.rttInitRipas, h.rd, 0, L2S))
        let t3 = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t3, L2S, 3))
        expectSuccess(s.call(.rttDestroy, h.rd, L2S, 3))
        #expect(entry(s.state, rtts[2]!, 1).ripasValue == .destroyed)
        let a = delegated(&s), b = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, a, 0, 3))
        expectSuccess(s.call(.rttCreate, h.rd, b, L2S, 3))
        #expect(s.state.rtts[a]!.entries.allSatisfy { $0.entryState == .unassigned && $0.ripasValue == .ram })
        #expect(s.state.rtts[b]!.entries.allSatisfy { $0.entryState == .unassigned && $0.ripasValue == .destroyed })
    }

    @Test func createUnfoldsAssignedNSBlock() {
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS, to: 2)
        let pa: UInt64 = 0x1_0020_0000
        expectSuccess(s.call(.rttMapUnprotected, h.rd, NS + L2S, 2, pa | attrsRW))
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, NS + L2S, 3))
        let es = s.state.rtts[t]!.entries
        #expect(es.indices.allSatisfy { i in
            es[i].entryState == .assignedNS && es[i].addr == pa + UInt64(i) * GS && UInt64(es[i].attrs) == attrsRW && es[i].ripas == 0
        })
        // The unfolded table folds back into the same block.
        expectSuccess(s.call(.rttFold, h.rd, NS + L2S, 3))
        let r = s.call(.rttReadEntry, h.rd, NS + L2S, 2)
        #expect(r.canonical.outputs == [2, 1, pa | attrsRW, 0])
    }

    @Test func createAtTopOfProtectedHalf() {
        var s = Scenario()
        let h = realm(&s)
        let last = NS - GS
        let rtts = s.createRtts(h, ipa: last, to: 3)
        #expect(rtts.count == 3)
        #expect(entry(s.state, h.startingRtts[0], 0).entryState == .table)
        #expect(entry(s.state, rtts[1]!, 511).addr == rtts[2]!)
        #expect(entry(s.state, rtts[2]!, 511).addr == rtts[3]!)
        #expect(s.state.rtts[rtts[3]!]?.ipaBase == NS - L2S)
        // The first unprotected level-1 range is next door.
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, NS, 1))
        #expect(entry(s.state, t, 0).entryState == .unassignedNS)
        #expect(entry(s.state, rtts[3]!, 511).entryState == .unassigned)
    }

    @Test func createWithFourStartingRtts() {
        // s2sz 41, SL 1: rtt_num_start = 2^(41 - 39) = 4 concatenated level-1 tables (3.4).
        var s = Scenario()
        let h = realm(&s, s2sz: 41, sl: 1, numStart: 4)
        #expect(h.startingRtts.count == 4)
        let st0 = s.state
        // Table 1 covers [512 GB, 1 TB): protected. Table 2 starts the unprotected half.
        #expect(entry(st0, h.startingRtts[1], 0).entryState == .unassigned)
        #expect(entry(st0, h.startingRtts[2], 0).entryState == .unassignedNS)
        // Level 1 is the starting level.
        let g5 = delegated(&s)
        hit(&s, .rttCreate, [h.rd, g5, 0, 1], "level_bound", .errorInput)
        let ipa: UInt64 = L0S + 3 * L1S
        let t2 = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t2, ipa, 2))
        #expect(entry(s.state, h.startingRtts[1], 3) == SpecState.Entry(state: UInt8(RttEntryState.table.rawValue), ripas: 0, attrs: 0, addr: t2))
        let t3 = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t3, ipa, 3))
        // Walk failure reports the starting level 1.
        let g6 = delegated(&s)
        hit(&s, .rttCreate, [h.rd, g6, 2 * L0S + L2S, 3], "rtt_walk", .errorRtt, index: 1)
        // Unprotected tables 2 and 3; ipa_bound at 2^41.
        let t4 = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t4, 3 * L0S + 511 * L1S, 2))
        #expect(entry(s.state, h.startingRtts[3], 511).addr == t4)
        #expect(entry(s.state, t4, 0).entryState == .unassignedNS)
        let g7 = delegated(&s)
        hit(&s, .rttCreate, [h.rd, g7, 1 << 41, 2], "ipa_bound", .errorInput)
        // READ_ENTRY at the starting level, in table 1.
        let r = s.call(.rttReadEntry, h.rd, ipa, 1)
        #expect(r.canonical.outputs == [1, 2, t2, 0])
    }

    // MARK: RTT_DESTROY

    @Test func destroyUnderAssignedNSBlockGivesTopIpa() {
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS, to: 2)
        expectSuccess(s.call(.rttMapUnprotected, h.rd, NS, 2, 0x4000_0000 | attrsRW))
        let r = hit(&s, .rttDestroy, [h.rd, NS, 3], "rtte_state", .errorRtt, index: 2)
        #expect(outputs(r, "rtte_state") == [nil, NS])
    }

    @Test func outOfRangeIpaIsNotWalkedIntoOtherRtts() {
        // The starting RTT "covering" an IPA >= 2^w would be rtt_base + k * 4K for some k >= 1,
        // here the level-1 RTT the Realm allocated after its RD and parameter page. rtt_live /
        // rtt_homo are not ordered after ipa_bound, so they must not look at that Granule.
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 3)
        #expect(rtts[1]! == h.startingRtts[0] + 3 * GS)
        let ipa: UInt64 = 3 << 48
        let r = hit(&s, .rttDestroy, [h.rd, ipa, 1], "ipa_bound", .errorInput, only: false, sole: true)
        #expect(!r.failing.contains("rtt_live"))
        let f = hit(&s, .rttFold, [h.rd, ipa, 1], "ipa_bound", .errorInput, only: false, sole: true)
        #expect(!f.failing.contains("rtt_homo"))
    }

    @Test func nsMappingOfALiveRttIsNotAChild() {
        // The Host maps NS memory at the PA of a live RTT (MAP_UNPROTECTED does not check the
        // PA). RTT_DESTROY / RTT_FOLD under that block: rtte_state only, not rtt_live/rtt_homo.
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: 0, to: 1)
        let t2 = s.granules(1, alignment: L2S)[0]
        s.delegate(t2)
        expectSuccess(s.call(.rttCreate, h.rd, t2, 0, 2))
        s.createRtts(h, ipa: 0, to: 3)
        s.createRtts(h, ipa: NS, to: 2)
        expectSuccess(s.call(.rttMapUnprotected, h.rd, NS, 2, t2))
        let r = hit(&s, .rttDestroy, [h.rd, NS, 3], "rtte_state", .errorRtt, index: 2)
        #expect(outputs(r, "rtte_state") == [nil, NS])
        hit(&s, .rttFold, [h.rd, NS, 3], "rtte_state", .errorRtt, index: 2)
    }

    @Test func destroyLevels3To1() {
        var s = Scenario()
        let h = realm(&s)
        let ipa: UInt64 = 3 * L1S + 7 * L2S
        let rtts = s.createRtts(h, ipa: ipa, to: 3)
        // Level 3: the level-2 entry becomes UNASSIGNED/DESTROYED; nothing else is live in
        // the level-2 RTT, so top is its end.
        var r = s.call(.rttDestroy, h.rd, ipa, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[3]!, 4 * L1S])
        #expect(s.state.granule(rtts[3]!).state == .delegated)
        #expect(s.state.granule(rtts[3]!).content == 0)
        #expect(s.state.rtts[rtts[3]!] == nil)
        let e = entry(s.state, rtts[2]!, 7)
        #expect(e.entryState == .unassigned && e.ripasValue == .destroyed && e.addr == 0)
        // Level 2 then level 1.
        r = s.call(.rttDestroy, h.rd, 3 * L1S, 2)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[2]!, L0S])
        r = s.call(.rttDestroy, h.rd, 0, 1)
        expectSuccess(r)
        // The level-0 RTT has no live entry left: top is past its 512 entries.
        #expect(r.canonical.outputs == [rtts[1]!, 512 * L0S])
        #expect(entry(s.state, h.startingRtts[0], 0).ripasValue == .destroyed)
        // The Realm is no longer live, its RTTs can be undelegated.
        for t in rtts.values { expectSuccess(s.call(.granuleUndelegate, t)) }
        expectSuccess(s.call(.realmDestroy, h.rd))
    }

    @Test func destroyTopSkipsToNextLiveEntry() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 3)
        s.createRtts(h, ipa: 5 * L2S, to: 3)
        let r = s.call(.rttDestroy, h.rd, 0, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[3]!, 5 * L2S])
    }

    @Test func destroyUnprotectedDropsNSMappings() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: NS, to: 3)
        expectSuccess(s.call(.rttMapUnprotected, h.rd, NS + GS, 3, 0x9000_0000 | attrsRW))
        // ASSIGNED_NS does not make an RTT live.
        let r = s.call(.rttDestroy, h.rd, NS, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[3]!, NS + L1S])
        let e = entry(s.state, rtts[2]!, 0)
        #expect(e.entryState == .unassignedNS && e.ripas == 0)
        let re = s.call(.rttReadEntry, h.rd, NS + GS, 3)
        #expect(re.canonical.outputs == [2, 0, 0, 0])
    }

    // MARK: RTT_FOLD

    @Test func foldUnassigned() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 3)
        // All EMPTY.
        var r = s.call(.rttFold, h.rd, 0, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[3]!])
        #expect(s.state.granule(rtts[3]!).state == .delegated)
        #expect(s.state.rtts[rtts[3]!] == nil)
        #expect(entry(s.state, rtts[2]!, 0) == .zero)
        // All RAM, at level 2 (into a level-1 entry).
        expectSuccess(s.call(.rttInitRipas, h.rd, 0, L1S))
        #expect(s.state.rtts[rtts[2]!]!.entries.allSatisfy { $0.ripasValue == .ram })
        r = s.call(.rttFold, h.rd, 0, 2)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[2]!])
        let e = entry(s.state, rtts[1]!, 0)
        #expect(e.entryState == .unassigned && e.ripasValue == .ram)
        // All DESTROYED.
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, 0, 2))
        let t3 = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t3, 0, 3))
        // Entries of t are RAM except entry 0, which becomes DESTROYED: not homogeneous.
        expectSuccess(s.call(.rttDestroy, h.rd, 0, 3))
        hit(&s, .rttFold, [h.rd, 0, 2], "rtt_homo", .errorRtt, index: 2)
    }

    @Test func foldUnassignedNSAtLevel1() {
        var s = Scenario()
        let h = realm(&s)
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, NS, 1))
        let r = s.call(.rttFold, h.rd, NS, 1)
        expectSuccess(r)
        #expect(r.canonical.outputs == [t])
        #expect(entry(s.state, h.startingRtts[0], 1).entryState == .unassignedNS)
    }

    /// Maps `count` consecutive entries of the level-`level` RTT at `ipa` to `pa + i * step`.
    func mapAll(_ s: inout Scenario, _ rd: UInt64, ipa: UInt64, level: Int64, pa: (Int) -> UInt64,
                attrs: (Int) -> UInt64 = { _ in attrsRW }) {
        let size: UInt64 = 1 << UInt64(12 + 9 * (3 - level))
        for i in 0..<512 {
            let r = s.call(.rttMapUnprotected, rd, ipa + UInt64(i) * size, UInt64(level), pa(i) | attrs(i))
            if !r.succeeded { Issue.record("map \(i): \(r.allowed)"); return }
        }
    }

    @Test func foldAssignedNSLevel3() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: NS, to: 3)
        let pa: UInt64 = 0x1_0000_0000
        mapAll(&s, h.rd, ipa: NS, level: 3, pa: { pa + UInt64($0) * GS })
        #expect(s.state.rtts[rtts[3]!]!.entries.allSatisfy { $0.entryState == .assignedNS })
        let r = s.call(.rttFold, h.rd, NS, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [rtts[3]!])
        let e = entry(s.state, rtts[2]!, 0)
        #expect(e.entryState == .assignedNS && e.addr == pa && UInt64(e.attrs) == attrsRW && e.ripas == 0)
        let re = s.call(.rttReadEntry, h.rd, NS, 3)
        #expect(re.canonical.outputs == [2, 1, pa | attrsRW, 0])
        // The block can be unmapped at level 2.
        let u = s.call(.rttUnmapUnprotected, h.rd, NS, 2)
        expectSuccess(u)
        #expect(u.canonical.outputs == [NS + L1S])
    }

    @Test func foldAssignedNSNeedsAlignedContiguousIdentical() {
        // First address not aligned to Size(2).
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS, to: 3)
        mapAll(&s, h.rd, ipa: NS, level: 3, pa: { 0x1_0000_1000 + UInt64($0) * GS })
        hit(&s, .rttFold, [h.rd, NS, 3], "rtt_homo", .errorRtt, index: 3)
        // Different attributes in one entry.
        var s2 = Scenario()
        let h2 = realm(&s2)
        s2.createRtts(h2, ipa: NS, to: 3)
        mapAll(&s2, h2.rd, ipa: NS, level: 3, pa: { 0x1_0000_0000 + UInt64($0) * GS },
               attrs: { $0 == 300 ? (0b001 << 2) : attrsRW })
        hit(&s2, .rttFold, [h2.rd, NS, 3], "rtt_homo", .errorRtt, index: 3)
    }

    @Test func foldLevel1OfAssignedNSBlocksIsNotHomogeneous() {
        // 512 contiguous 1 GB ASSIGNED_NS blocks would fold into a level-0 block, which does
        // not exist: the spec reports (RTT, level) = (RTT, 1); TF-RMM says (RTT, 0) (9.7).
        var s = Scenario()
        let h = realm(&s)
        let t = delegated(&s)
        expectSuccess(s.call(.rttCreate, h.rd, t, NS, 1))
        mapAll(&s, h.rd, ipa: NS, level: 1, pa: { UInt64($0) * L1S })
        hit(&s, .rttFold, [h.rd, NS, 1], "rtt_homo", .errorRtt, index: 1)
    }

    // MARK: RTT_MAP_UNPROTECTED

    @Test func mapAcceptsEveryOtherMemAttrAndS2AP() {
        // The attr_valid cases reject the reserved values; every other MemAttr value and every
        // S2AP value is accepted.
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS, to: 3)
        let pa: UInt64 = 0x2000_0000
        for memAttr: UInt64 in [0, 1, 2, 3, 5, 6, 7] {
            for s2ap: UInt64 in 0...3 {
                let ipa = NS + (memAttr * 4 + s2ap) * GS
                expectSuccess(s.call(.rttMapUnprotected, h.rd, ipa, 3, pa | memAttr << 2 | s2ap << 6))
            }
        }
    }

    @Test func mapAddrBelow2To48() {
        // The largest address without LPA2 (addr_bound starts at 2^48).
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS, to: 3)
        expectSuccess(s.call(.rttMapUnprotected, h.rd, NS, 3, 0x0000_FFFF_FFFF_F000))
    }

    @Test func mapReadUnmap() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: NS, to: 3)
        let ipa = NS + 17 * GS
        let desc: UInt64 = 0x8123_4000 | attrsRW
        expectSuccess(s.call(.rttMapUnprotected, h.rd, ipa, 3, desc))
        let e = entry(s.state, rtts[3]!, 17)
        #expect(e.entryState == .assignedNS && e.addr == 0x8123_4000 && UInt64(e.attrs) == attrsRW && e.ripas == 0)
        #expect(s.call(.rttReadEntry, h.rd, ipa, 3).canonical.outputs == [3, 1, desc, 0])
        // Unmap: top is the next live entry, or the end of the RTT.
        expectSuccess(s.call(.rttMapUnprotected, h.rd, ipa + 5 * GS, 3, 0x5000))
        var r = s.call(.rttUnmapUnprotected, h.rd, ipa, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [ipa + 5 * GS])
        #expect(entry(s.state, rtts[3]!, 17) == SpecState.Entry(state: UInt8(RttEntryState.unassignedNS.rawValue), ripas: 0, attrs: 0, addr: 0))
        r = s.call(.rttUnmapUnprotected, h.rd, ipa + 5 * GS, 3)
        expectSuccess(r)
        #expect(r.canonical.outputs == [NS + L2S])
        #expect(s.call(.rttReadEntry, h.rd, ipa, 3).canonical.outputs == [3, 0, 0, 0])
    }

    @Test func mapAtLastUnprotectedPage() {
        var s = Scenario()
        let h = realm(&s)
        let ipa: UInt64 = (1 << 40) - GS
        let rtts = s.createRtts(h, ipa: ipa, to: 3)
        expectSuccess(s.call(.rttMapUnprotected, h.rd, ipa, 3, 0x7000))
        #expect(entry(s.state, rtts[3]!, 511).entryState == .assignedNS)
        let r = s.call(.rttUnmapUnprotected, h.rd, ipa, 3)
        #expect(r.canonical.outputs == [1 << 40])
    }

    // MARK: RTT_READ_ENTRY

    @Test func readEntryStates() {
        var s = Scenario()
        let h = realm(&s)
        // Level 0, the starting level.
        #expect(s.call(.rttReadEntry, h.rd, 0, 0).canonical.outputs == [0, 0, 0, 0])
        #expect(s.call(.rttReadEntry, h.rd, NS, 0).canonical.outputs == [0, 0, 0, 0])
        // The walk stops early: walk_level is where it stopped.
        #expect(s.call(.rttReadEntry, h.rd, 0, 3).canonical.outputs == [0, 0, 0, 0])
        let rtts = s.createRtts(h, ipa: 0, to: 3)
        expectSuccess(s.call(.rttInitRipas, h.rd, 0, GS))
        #expect(s.call(.rttReadEntry, h.rd, 0, 3).canonical.outputs == [3, 0, 0, ramRipas])
        #expect(s.call(.rttReadEntry, h.rd, GS, 3).canonical.outputs == [3, 0, 0, 0])
        #expect(s.call(.rttReadEntry, h.rd, 0, 2).canonical.outputs == [2, 2, rtts[3]!, 0])
        expectSuccess(s.call(.rttDestroy, h.rd, 0, 3))
        #expect(s.call(.rttReadEntry, h.rd, 0, 3).canonical.outputs == [2, 0, 0, Ripas.destroyed.rawValue])
    }

    @Test func readEntryAssignedDestroyedOption() {
        // ASSIGNED entries with each RIPAS, made by DATA_CREATE / DATA_CREATE_UNKNOWN in the
        // NEW Realm.
        for opts in [SpecOptions(), .tfrmmReadEntryDestroyedDesc] {
            var s = Scenario(options: opts)
            let h = realm(&s)
            s.createRtts(h, ipa: 0, to: 3)
            let empty = delegated(&s), ram = delegated(&s), destroyed = delegated(&s)
            let src = s.granule()
            // EMPTY: DATA_CREATE_UNKNOWN keeps the RIPAS of the UNASSIGNED entry.
            expectSuccess(s.call(.dataCreateUnknown, h.rd, empty, 0))
            // RAM: DATA_CREATE.
            expectSuccess(s.call(.dataCreate, h.rd, ram, GS, src, 0))
            // DESTROYED: DATA_DESTROY of a RAM Granule leaves UNASSIGNED / DESTROYED, which
            // DATA_CREATE_UNKNOWN keeps.
            expectSuccess(s.call(.dataCreate, h.rd, destroyed, 2 * GS, src, 0))
            expectSuccess(s.call(.dataDestroy, h.rd, 2 * GS))
            expectSuccess(s.call(.dataCreateUnknown, h.rd, destroyed, 2 * GS))
            for (i, (ripas, data)) in [(Ripas.empty, empty), (.ram, ram), (.destroyed, destroyed)].enumerated() {
                let r = s.call(.rttReadEntry, h.rd, UInt64(i) * GS, 3)
                expectSuccess(r)
                let desc = (ripas == .destroyed && opts.contains(.tfrmmReadEntryDestroyedDesc)) ? 0 : data
                #expect(r.canonical.outputs == [3, 1, desc, ripas.rawValue], "\(opts) \(ripas)")
            }
        }
    }

    // MARK: RTT_INIT_RIPAS

    @Test func initRipasUpToTheTopOfTheProtectedHalf() {
        var s = Scenario()
        let h = realm(&s)
        s.createRtts(h, ipa: NS - GS, to: 3)
        let ok = s.call(.rttInitRipas, h.rd, NS - GS, NS)
        expectSuccess(ok)
        #expect(ok.canonical.outputs == [NS])
    }

    @Test func initRipasFullRangeAndRim() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 3)
        let rim0 = s.state.realm(CWord(h.rd), .rim).raw
        let r = s.call(.rttInitRipas, h.rd, 0, L2S)
        expectSuccess(r)
        #expect(r.canonical.outputs == [L2S])
        #expect(s.state.rtts[rtts[3]!]!.entries.allSatisfy { $0.entryState == .unassigned && $0.ripasValue == .ram })
        // One extension per entry.
        var rim = CWord(rim0)
        for i in 0..<UInt64(512) { rim = s.state.measure(rim, [2, CWord(i * GS), CWord((i + 1) * GS)]) }
        #expect(s.state.realm(CWord(h.rd), .rim).raw == rim.raw)
        // Again: RAM stays RAM and is measured again.
        let r2 = s.call(.rttInitRipas, h.rd, 0, 2 * GS)
        expectSuccess(r2)
        #expect(r2.canonical.outputs == [2 * GS])
        #expect(s.state.realm(CWord(h.rd), .rim).raw != rim.raw)
    }

    @Test func initRipasRimIsPerEntry() {
        // Initialising [0, 12K) in one call or in three gives the same RIM.
        func run(_ ranges: [(UInt64, UInt64)]) -> UInt64 {
            var s = Scenario()
            let h = realm(&s)
            s.createRtts(h, ipa: 0, to: 3)
            for (b, t) in ranges { expectSuccess(s.call(.rttInitRipas, h.rd, b, t)) }
            return s.state.realm(CWord(h.rd), .rim).raw
        }
        #expect(run([(0, 3 * GS)]) == run([(0, GS), (GS, 2 * GS), (2 * GS, 3 * GS)]))
        #expect(run([(0, 3 * GS)]) != run([(0, 2 * GS)]))
    }

    @Test func initRipasStopsAtTable() {
        var s = Scenario()
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: 2)
        s.createRtts(h, ipa: 3 * L2S, to: 3)
        // Level-2 entries 0..2 are blocks, entry 3 is TABLE.
        let r = s.call(.rttInitRipas, h.rd, 0, L1S)
        expectSuccess(r)
        #expect(r.canonical.outputs == [3 * L2S])
        for i in 0..<UInt64(3) { #expect(entry(s.state, rtts[2]!, i).ripasValue == .ram) }
        #expect(entry(s.state, rtts[2]!, 3).entryState == .table)
        #expect(entry(s.state, rtts[2]!, 4).ripasValue == .empty)
        // Starting at the TABLE entry the walk descends to level 3.
        let r3 = s.call(.rttInitRipas, h.rd, 3 * L2S, L1S)
        expectSuccess(r3)
        #expect(r3.canonical.outputs == [4 * L2S])
        // Capped at top, aligned down to the level.
        let r4 = s.call(.rttInitRipas, h.rd, 4 * L2S, 6 * L2S + 5 * GS)
        expectSuccess(r4)
        #expect(r4.canonical.outputs == [6 * L2S])
        #expect(entry(s.state, rtts[2]!, 6).ripasValue == .empty)
    }

    @Test func initRipasOverDestroyed() {
        for opts in [SpecOptions(), .tfrmmInitRipasStopsAtDestroyed] {
            var s = Scenario(options: opts)
            let h = realm(&s)
            let rtts = s.createRtts(h, ipa: 0, to: 2)
            s.createRtts(h, ipa: L2S, to: 3)
            expectSuccess(s.call(.rttDestroy, h.rd, L2S, 3))
            // Entry 1 of the level-2 RTT is UNASSIGNED / DESTROYED.
            if opts.isEmpty {
                // Spec: DESTROYED becomes RAM like EMPTY.
                let r = s.call(.rttInitRipas, h.rd, 0, 4 * L2S)
                expectSuccess(r)
                #expect(r.canonical.outputs == [4 * L2S])
                #expect(entry(s.state, rtts[2]!, 1).ripasValue == .ram)
            } else {
                // TF-RMM: the run stops at the DESTROYED entry.
                let r = s.call(.rttInitRipas, h.rd, 0, 4 * L2S)
                expectSuccess(r)
                #expect(r.canonical.outputs == [L2S])
                #expect(entry(s.state, rtts[2]!, 1).ripasValue == .destroyed)
                hit(&s, .rttInitRipas, [h.rd, L2S, 4 * L2S], "no_progress", .errorRtt, index: 2)
            }
        }
    }

    @Test func initRipasWithFourStartingRtts() {
        var s = Scenario()
        let h = realm(&s, s2sz: 41, sl: 1, numStart: 4)
        // No RTT below the starting level: 1 GB blocks of starting table 1.
        let r = s.call(.rttInitRipas, h.rd, L0S + L1S, L0S + 3 * L1S)
        expectSuccess(r)
        #expect(r.canonical.outputs == [L0S + 3 * L1S])
        #expect(entry(s.state, h.startingRtts[1], 1).ripasValue == .ram)
        #expect(entry(s.state, h.startingRtts[1], 2).ripasValue == .ram)
        #expect(entry(s.state, h.startingRtts[1], 3).ripasValue == .empty)
        // One call stays inside one starting RTT.
        let r2 = s.call(.rttInitRipas, h.rd, L0S - L1S, L0S + L1S)
        expectSuccess(r2)
        #expect(r2.canonical.outputs == [L0S])
        hit(&s, .rttInitRipas, [h.rd, L0S + L1S, L0S + L1S + GS], "no_progress", .errorRtt, index: 1)
    }

    // MARK: RTT_SET_RIPAS
    //
    // The label cases make the REC's pending request with REC_ENTER. The tests below write the
    // request into a copy of the state directly (SpecState's Machine API), to vary it freely on
    // one RTT layout, and run the command on that copy with RMISpec.step.

    struct RecSetup {
        var s: Scenario
        var h: Scenario.RealmHandle
        var rec: UInt64
        var rtts: [Int64: UInt64]
    }

    /// A Realm with RTTs at IPA 0 down to `level` and a delegated Granule for the REC.
    func setup(level: Int64 = 3, options: SpecOptions = []) -> RecSetup {
        var s = Scenario(options: options)
        let h = realm(&s)
        let rtts = s.createRtts(h, ipa: 0, to: level)
        let rec = delegated(&s)
        return RecSetup(s: s, h: h, rec: rec, rtts: rtts)
    }

    func withRec(_ st0: SpecState, rec: UInt64, owner: UInt64, addr: UInt64, top: UInt64, value: Ripas,
                 changeDestroyed: Bool = false, state: RecState = .ready) -> SpecState {
        var st = st0
        st.setGranuleState(CWord(rec), CWord(GranuleState.rec.rawValue), when: true)
        let fields: [(RecField, UInt64)] = [(.owner, owner), (.state, state.rawValue), (.runnable, 1),
                                            (.ripasAddr, addr), (.ripasTop, top), (.ripasValue, value.rawValue),
                                            (.ripasDestroyed, changeDestroyed ? 1 : 0)]
        for (f, v) in fields { st.setRec(CWord(rec), f, CWord(v), when: true) }
        return st
    }

    @discardableResult
    func stepHit(_ st: SpecState, _ args: [UInt64], _ label: String, _ status: Status, index: UInt64 = 0,
                 only: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> StepResult {
        let r = RMISpec.step(st, .rttSetRipas, args)
        expectHit(r, label, status, index: index, only: only, sourceLocation: sourceLocation)
        #expect(r.next == st, "a failing call changed the state", sourceLocation: sourceLocation)
        return r
    }

    @Test func setRipasSuccess() {
        let x = setup()
        let rd = x.h.rd, rec = x.rec, t3 = x.rtts[3]!
        let st = withRec(x.s.state, rec: rec, owner: rd, addr: 0, top: 8 * GS, value: .ram)
        var r = RMISpec.step(st, .rttSetRipas, [rd, rec, 0, 3 * GS])
        expectSuccess(r)
        #expect(r.canonical.outputs == [3 * GS])
        #expect(r.next.rec(CWord(rec), .ripasAddr).raw == 3 * GS)
        for i in 0..<UInt64(3) { #expect(entry(r.next, t3, i).ripasValue == .ram && entry(r.next, t3, i).entryState == .unassigned) }
        #expect(entry(r.next, t3, 3).ripasValue == .empty)
        // The next chunk, to the end of the request.
        r = RMISpec.step(r.next, .rttSetRipas, [rd, rec, 3 * GS, 8 * GS])
        expectSuccess(r)
        #expect(r.canonical.outputs == [8 * GS])
        #expect(r.next.rec(CWord(rec), .ripasAddr).raw == 8 * GS)
        // And back to EMPTY.
        let back = withRec(r.next, rec: rec, owner: rd, addr: 0, top: 8 * GS, value: .empty)
        r = RMISpec.step(back, .rttSetRipas, [rd, rec, 0, 8 * GS])
        expectSuccess(r)
        #expect(r.next.rtts[t3]!.entries.allSatisfy { $0.ripasValue == .empty })
    }

    @Test func setRipasStopsAtTable() {
        let x = setup(level: 2)
        let rd = x.h.rd, rec = x.rec
        var s = x.s
        s.createRtts(x.h, ipa: 2 * L2S, to: 3)
        let st = withRec(s.state, rec: rec, owner: rd, addr: 0, top: L1S, value: .ram)
        let r = RMISpec.step(st, .rttSetRipas, [rd, rec, 0, L1S])
        expectSuccess(r)
        #expect(r.canonical.outputs == [2 * L2S])
        #expect(entry(r.next, x.rtts[2]!, 1).ripasValue == .ram)
        #expect(entry(r.next, x.rtts[2]!, 2).entryState == .table)
    }

    @Test func setRipasDestroyed() {
        let x = setup(level: 2)
        let rd = x.h.rd, rec = x.rec, t2 = x.rtts[2]!
        var s = x.s
        // Level-2 entries 1 and 2 DESTROYED.
        for i: UInt64 in 1...2 {
            s.createRtts(x.h, ipa: i * L2S, to: 3)
            expectSuccess(s.call(.rttDestroy, rd, i * L2S, 3))
        }
        // Without CHANGE_DESTROYED the run stops at entry 1...
        var st = withRec(s.state, rec: rec, owner: rd, addr: 0, top: 4 * L2S, value: .ram)
        var r = RMISpec.step(st, .rttSetRipas, [rd, rec, 0, 4 * L2S])
        expectSuccess(r)
        #expect(r.canonical.outputs == [L2S])
        // ...and makes no progress from there.
        stepHit(r.next, [rd, rec, L2S, 4 * L2S], "no_progress", .errorRtt, index: 2)
        // With CHANGE_DESTROYED the DESTROYED entries change too.
        st = withRec(s.state, rec: rec, owner: rd, addr: 0, top: 4 * L2S, value: .ram, changeDestroyed: true)
        r = RMISpec.step(st, .rttSetRipas, [rd, rec, 0, 4 * L2S])
        expectSuccess(r)
        #expect(r.canonical.outputs == [4 * L2S])
        for i in 0..<UInt64(4) { #expect(entry(r.next, t2, i).ripasValue == .ram) }
    }

    @Test func setRipasExemption() {
        // The entry at base already has the requested RIPAS: base_align and no_progress do not
        // apply (spec); TF-RMM has no exemption (9.10).
        for opts in [SpecOptions(), .tfrmmSetRipasNoExemption] {
            var x = setup(level: 2, options: opts)
            let rd = x.h.rd, rec = x.rec
            expectSuccess(x.s.call(.rttInitRipas, rd, 0, L2S))
            let st = withRec(x.s.state, rec: rec, owner: rd, addr: GS, top: 3 * GS, value: .ram)
            let st0 = withRec(x.s.state, rec: rec, owner: rd, addr: 0, top: 3 * GS, value: .ram)
            if opts.isEmpty {
                // Literal spec (reference Q3): success with out_top = walk_top, which is the
                // block's base, below base.
                let r = RMISpec.step(st, .rttSetRipas, [rd, rec, GS, 3 * GS])
                expectSuccess(r)
                #expect(r.canonical.outputs == [0])
                #expect(r.next.rec(CWord(rec), .ripasAddr).raw == 0)
                let r0 = RMISpec.step(st0, .rttSetRipas, [rd, rec, 0, 3 * GS])
                expectSuccess(r0)
                #expect(r0.canonical.outputs == [0])
            } else {
                stepHit(st, [rd, rec, GS, 3 * GS], "base_align", .errorRtt, index: 2)
                stepHit(st0, [rd, rec, 0, 3 * GS], "no_progress", .errorRtt, index: 2)
            }
        }
    }
}
