// Renders many samples of every preset into an image followed by a canary region: the renderer
// must never write outside the (H, W, 3) image it was given.
import Meshes
import Testing
import Transforms

@Test("renderer never writes outside its image (every preset, 300 samples each)", arguments: TransformDistribution.presetNames)
func rendererStaysInBounds(_ preset: String) throws {
    let d = try TransformDistribution.preset(named: preset)
    let (tw, th, sw, sh) = (64, 64, 224, 224)
    // The object preset poses a 3D object: render a can.
    let mesh = d.object == nil ? nil : try MeshSurface(mesh: try Mesh.cylinder(diameter: 66, height: 115), textureWidth: tw, textureHeight: th)
    let r = try Renderer(textureWidth: tw, textureHeight: th, sceneWidth: sw, sceneHeight: sh, mesh: mesh)
    let tex = randomBuffer(tw * th * 3, seed: 1), mask = try Mask.circle(width: tw, height: th).alpha
    let scene = randomBuffer(sw * sh * 3, seed: 2)
    let n = sw * sh * 3, guardCount = 4096
    var buffer = [Float](repeating: -7, count: guardCount + n + guardCount)
    var rng = SplitMix64(seed: 3)
    for _ in 0..<300 {
        let s = d.sample(imageWidth: sw, imageHeight: sh, using: &rng)
        let cache = try buffer.withUnsafeMutableBufferPointer { b in
            try tex.withUnsafeBufferPointer { t in try mask.withUnsafeBufferPointer { m in try scene.withUnsafeBufferPointer { sc in
                try r.forward(texture: t, mask: m, scene: sc, sample: s, image: UnsafeMutableBufferPointer(rebasing: b[guardCount..<(guardCount + n)]))
            } } }
        }
        var dTex = [Float](repeating: 0, count: tw * th * 3)
        let dImage = randomBuffer(n, seed: 4)
        try r.backward(dImage: dImage, cache: cache, dTexture: &dTex)
        #expect(buffer[0..<guardCount].allSatisfy { $0 == -7 } && buffer[(guardCount + n)...].allSatisfy { $0 == -7 }, "sample wrote outside the image: \(s)")
        #expect(dTex.allSatisfy { $0.isFinite })
    }
}
