import Testing
@testable import SNETrain
