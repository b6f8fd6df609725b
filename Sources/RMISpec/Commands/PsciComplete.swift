/// RMI_PSCI_COMPLETE (B4.3.7, reference 5.23): the Host completes a PSCI_CPU_ON or
/// PSCI_AFFINITY_INFO request of `calling_rec` that targets `target_rec`.
///
/// The pending request is the calling REC's X0..X3 as the Realm left them (REC_ENTER's
/// `realmExit`): X0 = FID, X1 = target MPIDR, X2 = entry point (CPU_ON) or lowest level,
/// X3 = context id (CPU_ON).
enum PsciComplete {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> {
        typealias W = Word<M.D>
        let calling = c.x[0], target = c.x[1], status = c.x[2]
        // The model only ever leaves the SMC64 FIDs in X0 (a Realm's SMC32 CPU_ON is the same
        // request); INV-C4 makes X0 one of the two while a request is pending.
        let isCpuOn = m.rec(calling, .gpr(0)) == W(PSCI.cpuOn)
        let targetRunnable = m.recIsRunnable(target)
        // PsciReturnCodePermitted(calling, target, status): SUCCESS always; DENIED only for
        // CPU_ON of a target that is not runnable. (A running target is runnable: a REC is
        // entered only when runnable, and loses it only at its own CPU_OFF exit.)
        let permitted = status == W(PSCI.success) || (status == W(PSCI.denied) && isCpuOn && !targetRunnable)
        var listed: [Condition<M.D>] = []
        listed.reserveCapacity(16)
        listed.append(Condition("alias", .errorInput, calling == target))
        listed += m.granuleArgument("calling", calling, is: .rec)
        listed += m.granuleArgument("target", target, is: .rec)
        listed += [
            Condition("pending", .errorInput, m.rec(calling, .psciPending) == 0),
            Condition("owner", .errorInput, m.rec(target, .owner) != m.rec(calling, .owner)),
            // The spec compares the MPIDR values (TF-RMM compares REC indices; it has already
            // rejected MPIDRs with reserved bits set, so the two agree).
            Condition("target", .errorInput, m.rec(target, .mpidr) != m.rec(calling, .gpr(1))),
            Condition("status", .errorInput, !permitted),
        ]
        let conditions = m.weakened(listed, .weakenPsciCompleteNoOwnerCheck, drop: "owner")
        let ok = Evaluation.succeeds(conditions)
        if ok.isFalse { return Evaluation(conditions) }

        let entry = m.rec(calling, .gpr(2)), context = m.rec(calling, .gpr(3))
        let success = status == W(PSCI.success)
        // CPU_ON, SUCCESS, target not runnable: the target starts at `entry` with X0 = context.
        let powerOn = ok && isCpuOn && success && !targetRunnable
        m.setRec(target, .pc, entry, when: powerOn)
        m.setRec(target, .gpr(0), context, when: powerOn)
        for i in 1..<RecField.gprCount { m.setRec(target, .gpr(i), 0, when: powerOn) }
        m.setRec(target, .runnable, 1, when: powerOn)

        let answer: W = ite(!success, status,
                        ite(isCpuOn, ite(targetRunnable, W(PSCI.alreadyOn), W(PSCI.success)),
                        // AFFINITY_INFO: ON (0) or OFF (1).
                        ite(targetRunnable, W(PSCI.success), W(PSCI.off))))
        m.setRec(calling, .gpr(0), answer, when: ok)
        for i in 1...3 { m.setRec(calling, .gpr(i), 0, when: ok) }
        m.setRec(calling, .psciPending, 0, when: ok)
        return Evaluation(conditions)
    }
}
