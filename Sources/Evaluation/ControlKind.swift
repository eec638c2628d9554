// Control patches (noise, grey, shuffled) of a patch's shape: the same mask without its
// adversarial pattern. Patches themselves are loaded by Runs' PatchArtifact.
import Attack
import Runs
import Transforms

/// A control patch: same size and mask as the patch, without its adversarial pattern, so that
/// the patch's effect is separated from plain occlusion.
public enum ControlKind: String, CaseIterable, Codable, Sendable {
    /// Uniform random RGB in [0, 1] per texel.
    case noise
    /// Flat 0.5 grey.
    case grey
    /// The patch's own texels (inside the mask) in a random order: same colours, no structure.
    case shuffled
    /// The run's starting texture (its --init-texture, else its seed's starting noise): the
    /// object before the attack. Needs a run folder. A mesh run's default control.
    case base

    /// The controls `evaluate` runs when none are named: a mesh run's surface has no outline to
    /// occlude with, so its controls are the untouched base texture, noise and grey; a patch's
    /// are noise, grey and shuffled.
    public static func defaults(forMesh: Bool) -> [ControlKind] { forMesh ? [.base, .noise, .grey] : [.noise, .grey, .shuffled] }

    /// The control texture (height, width, 3) for `patch`, deterministic for `seed`.
    public func texture(for patch: PatchArtifact, seed: UInt64) throws -> [Float] {
        var rng = SplitMix64(seed: seed ^ SeedSalt.controlTextures)
        let n = patch.width * patch.height
        switch self {
        case .base:
            guard let config = patch.record?.config else {
                throw EvaluationError.badOption("the base control is a run's starting texture, and \(patch.source) is a PNG, not a run folder: give the run folder, or other --controls")
            }
            do { return try PatchTrainer.initialTexture(config: config, width: patch.width, height: patch.height) } catch {
                throw EvaluationError.badOption("the base control of \(patch.name): its starting texture \(config.initTexturePath ?? "") cannot be read (\(error)); give other --controls")
            }
        case .grey: return [Float](repeating: 0.5, count: n * 3)
        case .noise: return (0..<(n * 3)).map { _ in Float(Double(rng.next() >> 11) * 0x1p-53) }
        case .shuffled:
            var out = patch.texture
            let inside = (0..<n).filter { patch.mask.alpha[$0] > 0 }
            var order = inside
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for (k, dst) in inside.enumerated() { for c in 0..<3 { out[dst * 3 + c] = patch.texture[order[k] * 3 + c] } }
            return out
        }
    }
}

extension ControlKind {
    /// "noise,grey,shuffled,base" (any subset, "gray" also), or "none" alone for no controls.
    public static func parseList(_ s: String) throws -> [ControlKind] {
        let names = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names.isEmpty || names == ["none"] { return [] }
        if names.contains("none") {
            throw EvaluationError.badOption("\(s): 'none' means no controls and cannot be combined with others; give none alone, or a list of noise, grey, shuffled, base")
        }
        var kinds: [ControlKind] = []
        for name in names {
            guard let k = ControlKind(rawValue: name) ?? (name == "gray" ? .grey : nil) else {
                throw EvaluationError.badOption("unknown control '\(name)'; use a comma-separated list of noise, grey, shuffled, base, or none")
            }
            guard !kinds.contains(k) else { throw EvaluationError.badOption("\(s): \(k.rawValue) is listed twice; give each control once") }
            kinds.append(k)
        }
        return kinds
    }
}
