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

    public static let named: [(String, SpecOptions)] = [
        ("strict-listing-order", .strictListingOrder),
        ("tfrmm-init-ripas-stops-at-destroyed", .tfrmmInitRipasStopsAtDestroyed),
        ("tfrmm-set-ripas-no-exemption", .tfrmmSetRipasNoExemption),
        ("tfrmm-read-entry-destroyed-desc", .tfrmmReadEntryDestroyedDesc),
    ]
}
