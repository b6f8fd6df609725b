import RMISpec
import RMMImpl

/// RMMImpl, the implementation RMM in this repository, driven in process.
public struct BuiltinRMM: RMMUnderTest {
    public let rmm: RMM
    public let platform: Platform
    public var name: String { bugs.isEmpty ? "builtin" : "builtin+" + RMMBugs.named.filter { bugs.contains($0.bug) }.map(\.name).joined(separator: "+") }
    public var bugs: RMMBugs { rmm.bugs }

    /// Offset, in every page, of the word that holds the page's content token: the `data`
    /// Host write puts its token there, and the abstraction reads it back. No field of an
    /// RMI parameter block is there (it is reserved space in RmiRecEnter; the RMM writes
    /// RmiRecExit from 0x800 on).
    public static let contentWord: UInt64 = 0x7F8

    public init(platform: Platform = .standard, bugs: RMMBugs = []) {
        self.platform = platform
        rmm = RMM(platform: BuiltinRMM.implPlatform(platform), bugs: bugs)
    }

    static func implPlatform(_ p: Platform) -> RMMPlatform {
        RMMPlatform(delegable: p.delegable.map { .init(base: $0.base, size: $0.size) }, device: [],
                    secure: p.secure.map { .init(base: $0.base, size: $0.size) }, features0: p.features0,
                    recAuxCount: Int(p.recAuxCount), vmidBits: Int(p.vmidBits), paWidth: Int(p.paWidth))
    }

    init(platform: Platform, rmm: RMM) { self.platform = platform; self.rmm = rmm }

    /// The same RMM state in an RMM of its own: calls on the copy leave this one unchanged.
    public func snapshot() -> BuiltinRMM { BuiltinRMM(platform: platform, rmm: rmm.copy()) }

    public mutating func reset() throws { rmm.reset() }

    public mutating func write(_ w: HostWrite) throws {
        // A write the hardware refuses (a GPF) is the Host's problem, not the RMM's: the
        // spec face does not model it either, so it is dropped.
        let rmm = rmm
        w.forEachWordWrite { rmm.hostWrite($0, $1) }
    }

    public mutating func setGPT(_ addr: UInt64, _ gpt: GPT) throws {
        let g: RMM.GPT = switch gpt {
        case .ns: .ns
        case .realm: .realm
        case .secure: .secure
        case .root: .root
        case .aap: .any
        }
        rmm.setGPT(addr, g)
    }

    public mutating func call(_ cmd: RMICommand, _ args: [UInt64], realm: RealmActionValue?) throws -> ImplResult {
        let n = args.count
        let a0 = n > 0 ? args[0] : 0, a1 = n > 1 ? args[1] : 0, a2 = n > 2 ? args[2] : 0
        let a3 = n > 3 ? args[3] : 0, a4 = n > 4 ? args[4] : 0
        if cmd == .recEnter { rmm.nextBehaviour = BuiltinRMM.behaviour(realm ?? RealmActionValue(.irq)) }
        let r = rmm.handle(fid: cmd.fid, a0, a1, a2, a3, a4)
        var result = ImplResult(x: [r.x0, r.x1, r.x2, r.x3, r.x4])
        if cmd == .recEnter, realm?.kind != .stayRunning { result.exit = exitRecord(run: a1) }
        return result
    }

    public mutating func recExit(rec: UInt64, realm: RealmActionValue) throws -> ImplResult {
        let runPtr = rmm.rec(at: rec)?.runPtr ?? 0
        let x0 = rmm.completeRun(rec: rec, BuiltinRMM.behaviour(realm))
        return ImplResult(x: [x0], exit: exitRecord(run: runPtr))
    }

    func exitRecord(run: UInt64) -> ExitValues {
        var e = ExitValues()
        for (_, off) in BuiltinRMM.exitFields {
            if let v = rmm.hostRead(run &+ off) { e[offset: off] = v }
        }
        return e
    }

    /// The exit record fields `call` reports, with their offsets: the compared fields, plus
    /// the syndrome and fault address a Host needs to dispatch a SYNC exit (extra entries are
    /// ignored by the conformance comparison).
    static let exitFields: [(name: String, offset: UInt64)] = (comparedExitFields + ["esr", "hpfar"]).map {
        ($0, ExitRecord.offset(of: $0)!)
    }

    public static func behaviour(_ r: RealmActionValue) -> RealmBehaviour {
        let n = r.args.count
        let a = [n > 0 ? r.args[0] : 0, n > 1 ? r.args[1] : 0, n > 2 ? r.args[2] : 0, n > 3 ? r.args[3] : 0]
        switch r.kind {
        case .irq: return .irq
        case .fiq: return .fiq
        case .serror: return .serror
        case .wfi: return .wfi
        case .hostCall: return .hostCall(imm: a[0])
        case .psciCpuOn: return .psciCpuOn(target: a[0], entry: a[1], context: a[2])
        case .psciAffinityInfo: return .psciAffinityInfo(target: a[0], lowestLevel: a[1])
        case .psciCpuOff: return .psciCpuOff
        case .psciCpuSuspend: return .psciCpuSuspend
        case .psciSystemOff: return .psciSystemOff
        case .psciSystemReset: return .psciSystemReset
        case .ripasChange: return .ripasChange(base: a[0], top: a[1], ripas: a[2], flags: a[3])
        case .mmioAbort: return .mmioAbort(ipa: a[0], isv: a[1] & 1 == 1)
        case .protectedAbort: return .protectedAbort(ipa: a[0])
        case .stayRunning: return .stayRunning
        }
    }

    public func abstractState() -> SpecState? { Abstraction.abstractState(of: rmm, platform: platform) }
}
