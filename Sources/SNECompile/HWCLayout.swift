// Pass: float layouts to Spike IR layouts (spec §3.1, §3.2): NCHW → HWC. (`HWCLayout`, not to be
// confused with SpikeIR `FileLayout`, the byte offsets of a program file.)
//
// conv  `w[o][i][ky][kx]` → `w[ci][ky][kx][co]`
// dense `w[o][i]`         → `w[i][o]`, and when the input is a flattened `[C, H, W]` map the float
//        index `i = c·H·W + y·W + x` becomes the Spike IR index `(y·W + x)·C + c`.

public enum HWCLayout {
    /// `q` in float conv layout `[cout][cin][k][k]` → Spike IR `[cin][k][k][cout]`.
    public static func conv<T>(_ q: [T], cout: Int, cin: Int, k: Int) -> [T] {
        var r = q
        for o in 0..<cout { for i in 0..<cin { for y in 0..<k { for x in 0..<k {
            r[((i * k + y) * k + x) * cout + o] = q[((o * cin + i) * k + y) * k + x]
        } } } }
        return r
    }

    /// `q` in float dense layout `[out][in]` → Spike IR `[in][out]`; with `chw`, inputs are a
    /// flattened `[C, H, W]` map permuted from CHW to HWC order.
    public static func dense<T>(_ q: [T], out: Int, inputs: Int, chw: (c: Int, h: Int, w: Int)? = nil) -> [T] {
        var r = q
        for o in 0..<out {
            for i in 0..<inputs {
                var j = i
                if let (c, h, w) = chw {
                    let ch = i / (h * w), y = (i / w) % h, x = i % w
                    j = (y * w + x) * c + ch
                }
                r[j * out + o] = q[o * inputs + i]
            }
        }
        return r
    }

    /// A float NCHW image (values v/255) → the HWC uint8 image the program reads.
    public static func imageHWC(_ px: ArraySlice<Float>, c: Int, h: Int, w: Int) -> [UInt8] {
        var r = [UInt8](repeating: 0, count: c * h * w)
        let base = px.startIndex
        for ch in 0..<c { for y in 0..<h { for x in 0..<w {
            let v = (px[base + (ch * h + y) * w + x] * 255).rounded()
            r[(y * w + x) * c + ch] = UInt8(max(0, min(255, v)))
        } } }
        return r
    }
}
