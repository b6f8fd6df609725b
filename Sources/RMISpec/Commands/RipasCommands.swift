// TODO: not yet written.
enum RttInitRipas {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum RttSetRipas {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
