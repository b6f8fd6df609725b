// TODO: not yet written.
enum DataCreate {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum DataCreateUnknown {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
enum DataDestroy {
    static func evaluate<M: Machine>(_ m: inout M, _ c: Call<M.D>) -> Evaluation<M.D> { Evaluation([]) }
}
