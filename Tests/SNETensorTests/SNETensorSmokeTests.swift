import Testing
@testable import SNETensor
