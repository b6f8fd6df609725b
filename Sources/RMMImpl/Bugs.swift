/// Named deviations: known bug classes RMMImpl can be built with, so that the checker can
/// show it finds them. Each option is a one-line change at one place in the code, marked
/// with `bugs.contains(.name)`. The default, `[]`, is the correct implementation.
public struct RMMBugs: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// GRANULE_UNDELEGATE returns the granule to the Host without scrubbing it (bug class:
    /// missing scrub on the way out of the Realm PAS; CWE-226 "sensitive information in a
    /// resource not removed before reuse"). RMMImpl scrubs lazily: contents of a granule that
    /// went back to DELEGATED are only erased when it leaves the Realm PAS or is handed to a
    /// new owner with unknown contents, so with this bug the Host can read a destroyed Realm's
    /// data (or RTTs) with `hostRead` after undelegating the granule.
    public static let undelegateNoWipe = RMMBugs(rawValue: 1 << 0)

    /// GRANULE_UNDELEGATE accepts a granule in any delegated state (RD, REC, REC_AUX, DATA,
    /// RTT), not only DELEGATED (bug class: state check too weak, `!= UNDELEGATED` for
    /// `== DELEGATED`): memory still in use by a Realm goes back to the Host.
    public static let undelegateAnyState = RMMBugs(rawValue: 1 << 1)

    /// DATA_DESTROY does not drop the level-3 RTT's reference for the entry it unmaps
    /// (bug class: refcount leak). The RTT then counts as live for ever: RTT_DESTROY and
    /// RTT_FOLD of it fail, and the Realm can never be torn down.
    public static let dataDestroyNoRefcountDecrement = RMMBugs(rawValue: 1 << 2)

    /// DATA_CREATE / DATA_CREATE_UNKNOWN walk the RTT (rtt_walk, rtte_state) before checking
    /// that the IPA is Protected (ipa_bound) (bug class: failure conditions checked in the
    /// wrong order). The spec orders ipa_bound before the walk conditions, so an Unprotected
    /// IPA must give RMI_ERROR_INPUT; with this bug it gives RMI_ERROR_RTT at the level the
    /// walk stopped. (GRANULE_DELEGATE's conditions all return INPUT, so no reordering there
    /// is observable; this is an ordering whose result the spec's partial order fixes.)
    public static let dataCreateWalkBeforeIpaBound = RMMBugs(rawValue: 1 << 3)

    /// RTT_DESTROY does not check that the child RTT is non-live (bug class: destroying an
    /// object still referenced). The live child's DATA granules and sub-tables are orphaned:
    /// they stay in use but nothing maps them any more.
    public static let rttDestroyLiveTable = RMMBugs(rawValue: 1 << 4)

    /// REALM_DESTROY ignores the Realm's RECs (the RD's refcount) and only checks the starting
    /// RTTs (bug class: use-after-free; RECs keep a dangling reference to the destroyed RD).
    public static let realmDestroyWithRecs = RMMBugs(rawValue: 1 << 5)

    /// PSCI_COMPLETE does not check that the target REC belongs to the calling REC's Realm
    /// (bug class: missing ownership check, cross-Realm confusion): a Host can start a REC of
    /// another Realm through a pending PSCI_CPU_ON.
    public static let psciCompleteNoOwnerCheck = RMMBugs(rawValue: 1 << 6)

    /// RTT_MAP_UNPROTECTED does not check that the IPA is in the Unprotected half (bug class:
    /// missing bounds check): the Host can map NS memory at a Protected IPA.
    public static let mapUnprotectedInPar = RMMBugs(rawValue: 1 << 7)

    /// All named deviations with their command-line names.
    public static let named: [(name: String, bug: RMMBugs)] = [
        ("undelegate-no-wipe", .undelegateNoWipe),
        ("undelegate-any-state", .undelegateAnyState),
        ("data-destroy-no-refcount-decrement", .dataDestroyNoRefcountDecrement),
        ("data-create-walk-before-ipa-bound", .dataCreateWalkBeforeIpaBound),
        ("rtt-destroy-live-table", .rttDestroyLiveTable),
        ("realm-destroy-with-recs", .realmDestroyWithRecs),
        ("psci-complete-no-owner-check", .psciCompleteNoOwnerCheck),
        ("map-unprotected-in-par", .mapUnprotectedInPar),
    ]

    /// The option with the given command-line name, if any.
    public init?(name: String) {
        guard let b = RMMBugs.named.first(where: { $0.name == name }) else { return nil }
        self = b.bug
    }
}
