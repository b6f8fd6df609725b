// The Realm Initial Measurement (RIM), kept as one 64-bit value extended by RMMImpl's own
// hash chain. It is not SHA-256/512: only "equal inputs in equal order give equal RIMs" and
// "different inputs give different RIMs (with high probability)" matter to the checker, which
// compares measurements through an abstraction (see `MeasurementEvent` and
// `RMM.recordsMeasurementLog`).
//
// Extension inputs, in command order (A7.1; reference 3.5):
// * REALM_CREATE: RIM = H(tag 0xF0 | hash_algo; flags, s2sz, sve_vl, num_bps, num_wps,
//   pmu_num_ctrs, hash_algo) -- the fields of the zero-filled RmiRealmParams copy the spec
//   hashes.
// * DATA_CREATE: RIM = H(RIM; 0, ipa, flags, content digest of the source page if
//   flags.measure else 0). The content digest is `RMM.digest` (a hash of its 512 words, 0
//   for an all-zero page).
// * REC_CREATE of a runnable REC: RIM = H(RIM; 1, flags, pc, gprs[0..7]).
// * RTT_INIT_RIPAS, once per RTT entry: RIM = H(RIM; 2, entry base, min(entry top, top)).

/// One extension of the RIM, as recorded when `RMM.recordsMeasurementLog` is on.
public enum MeasurementEvent: Sendable, Hashable {
    /// REALM_CREATE's initial measurement.
    case realmParams(flags: UInt64, s2sz: UInt64, sveVL: UInt64, numBPs: UInt64, numWPs: UInt64,
                     pmuNumCtrs: UInt64, hashAlgo: UInt64)
    /// DATA_CREATE. `contentDigest` is 0 without RMI_MEASURE_CONTENT.
    case data(ipa: UInt64, flags: UInt64, contentDigest: UInt64)
    /// REC_CREATE of a runnable REC.
    case rec(flags: UInt64, pc: UInt64, gprs: [UInt64])
    /// RTT_INIT_RIPAS, one RTT entry.
    case ripas(base: UInt64, top: UInt64)
}

enum Measurement {
    /// A 64-bit mixing function (the splitmix64 finaliser).
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    static func extend(_ h: UInt64, _ w: UInt64) -> UInt64 { mix(h ^ mix(w)) }

    static func initial(hashAlgo: UInt64, _ fields: UInt64...) -> UInt64 {
        var h = mix(0xF0 | hashAlgo)
        for f in fields { h = extend(h, f) }
        return h
    }

    @inline(__always)
    static func extendData(_ rim: UInt64, ipa: UInt64, flags: UInt64, digest: UInt64) -> UInt64 {
        extend(extend(extend(extend(rim, 0), ipa), flags), digest)
    }

    @inline(__always)
    static func extendRipas(_ rim: UInt64, base: UInt64, top: UInt64) -> UInt64 {
        extend(extend(extend(rim, 2), base), top)
    }
}
