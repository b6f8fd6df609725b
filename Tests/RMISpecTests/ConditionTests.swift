import Testing
import RMISpec

/// A condition keeps its label, result, outputs and source exactly as written, in its
/// compact form (literal addresses, outputs inline).
@Suite struct ConditionTests {
    @Test func keepsWhatItWasGiven() {
        let line: UInt = #line + 1
        let c = Condition<Concrete>("rtt_walk", .errorRtt, CBit(true), index: 2, outputs: [nil, CWord(0x4000)])
        #expect(c.label == "rtt_walk")
        #expect(c.status == .errorRtt && c.fails.raw && c.index.raw == 2 && c.listed)
        #expect(c.outputs.map { $0?.raw } == [nil, 0x4000], "an undefined output stays undefined")
        #expect(c.file.hasSuffix("Tests/RMISpecTests/ConditionTests.swift") && c.line == line)
        let one = Condition<Concrete>("incompatible", .errorInput, CBit(false), outputs: [CWord(7)], listed: false)
        #expect(one.outputs.map { $0?.raw } == [7] && !one.listed && !one.fails.raw)
        #expect(Condition<Concrete>("x", .errorInput, CBit(false)).outputs.isEmpty)
    }

    @Test func argumentLabelsJoinNameAndSuffix() {
        let s = SpecState()
        #expect(s.granuleArgument("rd", CWord(0x1001), is: .rd).array.map(\.label) == ["rd_align", "rd_bound", "rd_state"])
        #expect(s.nsArgument("params", CWord(0)).array.map(\.label) == ["params_align", "params_bound", "params_pas"])
        #expect(s.granuleArgument("rec", CWord(0), is: .rec, stateLabel: "rec_gran_state").array.map(\.label).last == "rec_gran_state")
    }

    /// 64 bytes a condition, so that a command's list of 15 fits one of the allocator's
    /// small blocks (a search builds one per call).
    @Test func concreteConditionsTakeSixtyFourBytes() {
        #expect(MemoryLayout<Condition<Concrete>>.stride == 64)
    }
}
