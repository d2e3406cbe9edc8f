import Testing
@testable import SpikeIR
