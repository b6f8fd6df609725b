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
