import RMISpec
@testable import RMICheck

/// Settings for a symbolic engine on a small scope and alphabet, with seed 1.
func settings(_ scope: String, _ commands: [RMICommand], _ props: [Invariant], options: SpecOptions = []) throws -> SymbolicSettings {
    var s = SymbolicSettings()
    s.scope = try Scope(parsing: scope)
    s.commands = commands
    s.properties = props
    s.specOptions = options
    s.seed = 1
    return s
}
