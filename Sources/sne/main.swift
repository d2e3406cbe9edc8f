// The `sne` executable: everything lives in SNECLI so that it can be tested.
import Foundation
import SNECLI

exit(SNECLI.main(Array(CommandLine.arguments.dropFirst())))
