// TODO: not yet written.
enum RecCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RecDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RecEnter {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum PsciComplete {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}

extension RMISpec {
    /// The end of a REC_ENTER that left its REC running (`stay_running`): the Realm
    /// performs `realm` and the call returns. TODO: not yet written.
    public static func recExit(_ s: SpecState, rec: UInt64, realm: RealmAction<Concrete>) -> StepResult {
        StepResult(allowed: [Outcome(status: .success)], failing: [], next: s)
    }
}
