import Networks
import Foundation

func readF32(_ p: String) -> [Float] {
    let d = FileManager.default.contents(atPath: p)!
    return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}
let name = CommandLine.arguments[1], size = Int(CommandLine.arguments[2])!
let idx = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/dev/\(name).json"))) as! [String: [String: Any]]
let all = readF32("/tmp/dev/\(name).f32")
var weights: [String: WeightTensor] = [:]
for (k, v) in idx {
    let shape = v["shape"] as! [Int]; let off = v["offset"] as! Int
    let n = shape.reduce(1, *)
    weights[k] = WeightTensor(shape: shape, values: Array(all[off..<off + n]))
}
let model = try EfficientNetLite(name: name, inputSize: size, source: name, weights: weights)
let runner = ModelRunner(model: model)
let x = Tensor(shape: [2, size, size, 3], values: readF32("/tmp/dev/\(name).x.f32"))
let ref = Tensor(shape: [2, 1000], values: readF32("/tmp/dev/\(name).logits.f32"))
let refGrad = Tensor(shape: [2, size, size, 3], values: readF32("/tmp/dev/\(name).grad.f32"))
let (loss, logits, grad) = runner.crossEntropyGradient(x, targets: [859, 1])
print("loss", loss, "maxdiff logits", logits.maxAbsDifference(ref), "grad maxdiff", grad.maxAbsDifference(refGrad))
var dot = 0.0, na = 0.0, nb = 0.0
for i in 0..<grad.count { let a = Double(grad[flat: i]), b = Double(refGrad[flat: i]); dot += a*b; na += a*a; nb += b*b }
print("cosine", dot / (na.squareRoot() * nb.squareRoot()))
// timing
for batch in [1, 16] {
    let xb = Tensor(zeros: [batch, size, size, 3])
    let t = (0..<batch).map { _ in 859 }
    _ = runner.crossEntropyGradient(xb, targets: t)
    var start = Date(); var iters = 0
    while Date().timeIntervalSince(start) < 3 { _ = runner.forward(xb); iters += 1 }
    print("batch \(batch) forward: \(Double(iters * batch) / Date().timeIntervalSince(start)) samples/s")
    start = Date(); iters = 0
    while Date().timeIntervalSince(start) < 3 { _ = runner.crossEntropyGradient(xb, targets: t); iters += 1 }
    print("batch \(batch) fwd+bwd: \(Double(iters * batch) / Date().timeIntervalSince(start)) samples/s")
}
