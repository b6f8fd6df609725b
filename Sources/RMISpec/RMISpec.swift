@_exported import SMT
