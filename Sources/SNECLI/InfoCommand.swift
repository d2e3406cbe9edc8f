// `sne info`: shapes, parameters, RAM/flash needs and op estimate of a program.
import Foundation
import SpikeIR

struct InfoCommand: Command {
    static let name = "info"
    static let summary = "shapes, parameters, RAM/flash needs and op estimate of a program"
    static let usage = """
        usage: sne info PROGRAM [--input FILE [--index N]]
          prints shapes per op, parameter counts, a dense upper bound of the operations per
          inference (every neuron spiking every step, every pixel nonzero, all K students), the
          memory the emitted C needs, and with --input the operations actually executed at k = 1…K
        """
    let program: String, input: String?, index: Int?
    init(_ args: Arguments) throws {
        var a = args
        input = try a.option("input")
        index = try a.int("index", in: 0...Int(Int32.max))
        program = try a.positional("PROGRAM")
        try a.finish()
    }

    func run(out: inout TextSink, err: inout TextSink) throws {
        let p = try InputFiles.program(program)
        out.write(Dump.text(p).split(separator: "\n").first.map { String($0) + "\n" } ?? "")
        var params = 0, bound = Counts()
        if let g = p.gate {
            let pooled = (p.input.h / g.pool) * (p.input.w / g.pool) * p.input.c
            if g.pool > 1 { bound.synops += pooled * g.pool * g.pool }
            for (l, layer) in g.layers.enumerated() {
                params += layer.weights.count + layer.bias.count
                bound.macs += layer.inputs * layer.outputs + (l < g.layers.count - 1 ? layer.outputs : 0)
            }
            out.write("gate       pool=\(g.pool) layers=\(g.layers.count) params=\(g.layers.reduce(0) { $0 + $1.weights.count + $1.bias.count })\n")
        }
        for (k, s) in p.students.enumerated() {
            var shape = p.input, sp = 0
            out.write("student \(k)  features=\(s.features)\n")
            for (j, op) in s.ops.enumerated() {
                let o = op.outputShape(shape)
                var n = 0, c = Counts()
                switch op {
                case .inputConv2D(let cv): n = cv.weights.count + cv.bias.count; c.macs = shape.size * cv.kh * cv.kw * cv.cout
                case .inputDense(let d): n = d.weights.count + d.bias.count; c.macs = shape.size * d.out
                case .conv2D(let cv): n = cv.weights.count + cv.bias.count; c.synops = p.timesteps * shape.size * cv.kh * cv.kw * cv.cout
                case .dense(let d): n = d.weights.count + d.bias.count; c.synops = p.timesteps * shape.size * d.out
                case .lif(let l):
                    n = l.thetas.count   // per-channel thresholds (spec §3.5)
                    c.neuronUpdates = p.timesteps * o.size
                    if case .mulShift = l.leak { c.macs = p.timesteps * o.size }
                case .avgPool(let q): c.synops = p.timesteps * o.size * q * q
                case .readout: c.synops = p.timesteps * o.size; c.macs = o.size
                default: break
                }
                sp += n; bound += c
                out.write("  \(j) \(op.name.padding(toLength: 13, withPad: " ", startingAt: 0)) \(shape) -> \(o)  params=\(n)\n")
                shape = o
            }
            params += sp
        }
        let headParams = p.head.bias.count + p.head.weights.reduce(0) { $0 + $1.count }
        params += headParams
        bound.macs += p.students.reduce(0) { $0 + $1.features } * p.classes
        out.write("head       classes=\(p.classes) params=\(headParams)\n")
        out.write("parameters \(params) total\n")
        out.write("ops bound  synops≤\(bound.synops) macs≤\(bound.macs) neuron_updates≤\(bound.neuronUpdates)  (dense upper bound, k = K; input-conv MACs counted without border clipping)\n")
        if let input {
            let x = try InputFiles.read(input, size: p.input.size, index: index)
            do {
                let interp = try Interpreter(p)
                for k in 1...p.students.count {
                    let r = try interp(x, budget: k)
                    let t = r.total
                    out.write("ops k=\(k)    synops=\(t.synops) macs=\(t.macs) neuron_updates=\(t.neuronUpdates)  active=\(r.active)  (on \(input))\n")
                }
            } catch let e as SpikeIRError { throw CLIError.failure(e.description) }
        }
        for line in memoryLines(for: p) { out.write(line + "\n") }
    }
}
