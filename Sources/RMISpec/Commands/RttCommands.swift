// TODO: not yet written.
enum RttCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttFold {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttMapUnprotected {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttUnmapUnprotected {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttReadEntry {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
