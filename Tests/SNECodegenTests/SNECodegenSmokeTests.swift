import Testing
@testable import SNECodegen
