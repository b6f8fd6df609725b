/// What the Realm does while a REC runs (section 6.2 of the reference): the spec leaves it
/// to the Realm, so it is an input of REC_ENTER, chosen by the trace or by the checker.
public enum RealmActionKind: UInt64, CaseIterable, Sendable, Codable {
    /// An IRQ for the Host: RMI_EXIT_IRQ, no state change. Also what follows any Realm
    /// request the RMM answers itself.
    case irq = 0
    case fiq
    case serror
    /// A trapped WFI/WFE: RMI_EXIT_SYNC.
    case wfi
    /// RSI_HOST_CALL(imm = a0).
    case hostCall
    /// PSCI_CPU_ON(target mpidr = a0, entry = a1, context = a2).
    case psciCpuOn
    /// PSCI_AFFINITY_INFO(target mpidr = a0, lowest level = a1).
    case psciAffinityInfo
    case psciCpuOff
    case psciCpuSuspend
    case psciSystemOff
    case psciSystemReset
    /// RSI_IPA_STATE_SET(base = a0, top = a1, ripas = a2, flags = a3; flags bit 0 = CHANGE_DESTROYED).
    case ripasChange
    /// A Data Abort at an Unprotected IPA (a0), emulatable when a1 (ISV) is 1.
    case mmioAbort
    /// A Data Abort at a Protected IPA (a0) whose RIPAS is RAM and HIPAS UNASSIGNED, or DESTROYED.
    case protectedAbort
    /// The REC is still running when the next step happens (another CPU issues it); a
    /// later `rec_exit` event ends the call with the action given there.
    case stayRunning

    public var name: String {
        switch self {
        case .irq: "irq"
        case .fiq: "fiq"
        case .serror: "serror"
        case .wfi: "wfi"
        case .hostCall: "host_call"
        case .psciCpuOn: "psci_cpu_on"
        case .psciAffinityInfo: "psci_affinity_info"
        case .psciCpuOff: "psci_cpu_off"
        case .psciCpuSuspend: "psci_cpu_suspend"
        case .psciSystemOff: "psci_system_off"
        case .psciSystemReset: "psci_system_reset"
        case .ripasChange: "ripas_change"
        case .mmioAbort: "mmio_abort"
        case .protectedAbort: "protected_abort"
        case .stayRunning: "stay_running"
        }
    }
    public init?(name: String) {
        guard let k = RealmActionKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = k
    }
    /// Names of the action's arguments a0...
    public var argumentNames: [String] {
        switch self {
        case .hostCall: ["imm"]
        case .psciCpuOn: ["target_mpidr", "entry", "context"]
        case .psciAffinityInfo: ["target_mpidr", "lowest_level"]
        case .ripasChange: ["base", "top", "ripas", "flags"]
        case .mmioAbort: ["ipa", "isv"]
        case .protectedAbort: ["ipa"]
        default: []
        }
    }
}

public struct RealmAction<D: Domain> {
    public var kind: Word<D>
    public var args: [Word<D>]
    public init(kind: Word<D>, args: [Word<D>] = [0, 0, 0, 0]) {
        self.kind = kind
        self.args = args + [Word<D>](repeating: 0, count: max(0, 4 - args.count))
    }
    public func `is`(_ k: RealmActionKind) -> Bit<D> { kind == Word(k.rawValue) }
}

extension RealmAction where D == Concrete {
    /// `RealmAction(kind: 0)` (an IRQ, no arguments), made once.
    public static var idle: RealmAction<Concrete> { concreteIdleAction }
}
nonisolated(unsafe) private let concreteIdleAction = RealmAction<Concrete>(kind: 0)

extension Call where D == Concrete {
    /// The call with registers `x` (X1..), padded with zeros to five registers.
    public init(registers x: [UInt64], realm: RealmAction<Concrete>) {
        // An array literal: the compiler allocates it with the element type's metadata at
        // hand (the generic allocation paths look it up on every call).
        let n = x.count
        if n <= 5 {
            self.x = [CWord(n > 0 ? x[0] : 0), CWord(n > 1 ? x[1] : 0), CWord(n > 2 ? x[2] : 0),
                      CWord(n > 3 ? x[3] : 0), CWord(n > 4 ? x[4] : 0)]
        } else {
            self.x = x.map { CWord($0) }
        }
        self.realm = realm
    }
}

/// One RMI call: the input registers X1..X5 and, for REC_ENTER, the Realm's behaviour.
public struct Call<D: Domain> {
    public var x: [Word<D>]
    public var realm: RealmAction<D>
    public init(_ x: [Word<D>], realm: RealmAction<D> = RealmAction(kind: 0)) {
        self.x = x.count >= 5 ? x : x + [Word<D>](repeating: 0, count: 5 - x.count)
        self.realm = realm
    }
}
