import Testing
@testable import SNEData
