/// Named departures from the spec's own reading. By default the spec face models
/// DEN0137 1.0-rel0; each option switches one rule to what TF-RMM at tag
/// `rmm-spec-v1.0-rel0` does (reference section 9) or to a stricter reading.
public struct SpecOptions: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Report only the first failing condition in listing order (the CBMC testbench
    /// reading), instead of every condition minimal under the spec's partial order.
    public static let strictListingOrder = SpecOptions(rawValue: 1 << 0)
    /// 9.9: RTT_INIT_RIPAS stops at an UNASSIGNED entry with RIPAS DESTROYED instead of
    /// turning it into RAM.
    public static let tfrmmInitRipasStopsAtDestroyed = SpecOptions(rawValue: 1 << 1)
    /// 9.10: RTT_SET_RIPAS applies base_align and no_progress even when the entry at base
    /// already has the requested RIPAS.
    public static let tfrmmSetRipasNoExemption = SpecOptions(rawValue: 1 << 2)
    /// 9.4: RTT_READ_ENTRY returns desc = 0 for an ASSIGNED entry with RIPAS DESTROYED.
    public static let tfrmmReadEntryDestroyedDesc = SpecOptions(rawValue: 1 << 3)

    // Deliberate weakenings. Each loosens one rule the way the RMMImpl deviation of the same
    // name does, so that a user (and the test suite) can watch the engines find that bug
    // class on the spec itself. Never on by default; a trace that uses one records it.

    /// GRANULE_UNDELEGATE without `gran_state`: any delegable Granule is undelegated.
    public static let weakenUndelegateAnyState = SpecOptions(rawValue: 1 << 32)
    /// GRANULE_UNDELEGATE leaves the Granule's contents (no wipe). Unobservable on the spec:
    /// a DELEGATED Granule is already zero (INV-G5), so REFINES-SPEC holds under it.
    public static let weakenUndelegateNoWipe = SpecOptions(rawValue: 1 << 33)
    /// REALM_DESTROY's `realm_live` ignores the Realm's RECs.
    public static let weakenRealmDestroyWithRecs = SpecOptions(rawValue: 1 << 34)
    /// RTT_DESTROY without `rtt_live`: a live table is destroyed.
    public static let weakenRttDestroyLiveTable = SpecOptions(rawValue: 1 << 35)
    /// RTT_MAP_UNPROTECTED's `ipa_bound` accepts a Protected IPA and `rtte_state` its
    /// UNASSIGNED entry.
    public static let weakenMapUnprotectedInPar = SpecOptions(rawValue: 1 << 36)
    /// PSCI_COMPLETE without `owner`: the target may belong to another Realm.
    public static let weakenPsciCompleteNoOwnerCheck = SpecOptions(rawValue: 1 << 37)
    /// DATA_DESTROY leaves a reference on the level-3 RTT (the ghost field `leaked`): the
    /// table counts as live for ever, so RTT_DESTROY fails `rtt_live`, RTT_FOLD fails
    /// `rtt_homo` and, for a starting RTT, REALM_DESTROY fails `realm_live`.
    public static let weakenDataDestroyNoRefcountDecrement = SpecOptions(rawValue: 1 << 38)
    /// DATA_CREATE and DATA_CREATE_UNKNOWN check `ipa_bound` after the walk for an IPA inside
    /// the Realm's IPA space: an Unprotected IPA gives the walk's (RTT, level) instead of
    /// INPUT (`ipa_bound` fails only when `rtt_walk` and `rtte_state` pass).
    public static let weakenDataCreateWalkBeforeIpaBound = SpecOptions(rawValue: 1 << 39)

    /// Every weakening.
    public static let weakenings: SpecOptions = [
        .weakenUndelegateAnyState, .weakenUndelegateNoWipe, .weakenRealmDestroyWithRecs,
        .weakenRttDestroyLiveTable, .weakenMapUnprotectedInPar, .weakenPsciCompleteNoOwnerCheck,
        .weakenDataDestroyNoRefcountDecrement, .weakenDataCreateWalkBeforeIpaBound,
    ]

    public static let named: [(String, SpecOptions)] = [
        ("strict-listing-order", .strictListingOrder),
        ("tfrmm-init-ripas-stops-at-destroyed", .tfrmmInitRipasStopsAtDestroyed),
        ("tfrmm-set-ripas-no-exemption", .tfrmmSetRipasNoExemption),
        ("tfrmm-read-entry-destroyed-desc", .tfrmmReadEntryDestroyedDesc),
        ("weaken-undelegate-any-state", .weakenUndelegateAnyState),
        ("weaken-undelegate-no-wipe", .weakenUndelegateNoWipe),
        ("weaken-realm-destroy-with-recs", .weakenRealmDestroyWithRecs),
        ("weaken-rtt-destroy-live-table", .weakenRttDestroyLiveTable),
        ("weaken-map-unprotected-in-par", .weakenMapUnprotectedInPar),
        ("weaken-psci-complete-no-owner-check", .weakenPsciCompleteNoOwnerCheck),
        ("weaken-data-destroy-no-refcount-decrement", .weakenDataDestroyNoRefcountDecrement),
        ("weaken-data-create-walk-before-ipa-bound", .weakenDataCreateWalkBeforeIpaBound),
    ]
}
