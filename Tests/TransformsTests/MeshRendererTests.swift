// The renderer's mesh path (issue 22): a can rendered by the rasteriser against an independent
// ray caster (the golden image: analytic ray–cylinder and ray–lid intersections, the same
// bilinear texture lookup and Lambert shading written out here), the pose conventions
// (azimuth, elevation, size and placement in the frame, light), gradient checks by central
// differences (magnified and minified textures, through lighting, printer and blur), and the
// refusals.
import Foundation
import Meshes
import Testing
import Transforms

@Suite("Renderer: textured meshes")
struct MeshRendererTests {
    static let can = try! Mesh.cylinder(diameter: 66, height: 115, segments: 256)

    func renderer(_ mesh: Mesh, tw: Int, th: Int, size: Int) throws -> Renderer {
        try Renderer(textureWidth: tw, textureHeight: th, sceneWidth: size, sceneHeight: size,
                     mesh: try MeshSurface(mesh: mesh, textureWidth: tw, textureHeight: th))
    }

    func sample(_ pose: ObjectPose) -> TransformSample {
        var s = TransformSample()
        s.object = pose
        return s
    }

    /// What the ray caster sees at one pixel centre: nothing, the label at (u, v) with its
    /// normal, or a lid.
    enum Hit { case none, label(u: Double, v: Double, normal: SIMD3<Double>, grazing: Double), lid(normal: SIMD3<Double>) }

    /// Casts the ray of pixel centre (px, py) through `cam` at an analytic cylinder of diameter
    /// d and height h centred on the origin (y up), in the object's frame.
    static func cast(px: Double, py: Double, cam: ObjectCamera, d: Double, h: Double) -> Hit {
        let R = cam.rotation
        // Object frame = Rᵀ (camera frame − (0, 0, D)); Rᵀ's rows are R's columns.
        func toObject(_ v: SIMD3<Double>) -> SIMD3<Double> {
            SIMD3(R.r0.x * v.x + R.r1.x * v.y + R.r2.x * v.z, R.r0.y * v.x + R.r1.y * v.y + R.r2.y * v.z, R.r0.z * v.x + R.r1.z * v.y + R.r2.z * v.z)
        }
        let o = toObject(SIMD3(0, 0, -cam.distance))
        let dir = toObject(SIMD3((px - cam.cx) / cam.focal, (py - cam.cy) / cam.focal, 1))
        let r = d / 2
        var best = Double.infinity, hit = Hit.none
        // Side: (o + t dir).xz on the circle.
        let a = dir.x * dir.x + dir.z * dir.z, b = 2 * (o.x * dir.x + o.z * dir.z), c = o.x * o.x + o.z * o.z - r * r
        let disc = b * b - 4 * a * c
        if a > 0, disc >= 0 {
            for t in [(-b - disc.squareRoot()) / (2 * a), (-b + disc.squareRoot()) / (2 * a)] where t > 0 && t < best {
                let p = o + t * dir
                guard abs(p.y) <= h / 2 else { continue }
                var u = atan2(p.x, p.z) / (2 * .pi)
                if u < 0 { u += 1 }
                let n = SIMD3(p.x / r, 0, p.z / r)
                let viewCos = abs((n * dir).sum()) / (dir * dir).sum().squareRoot()
                best = t; hit = .label(u: u, v: (p.y + h / 2) / h, normal: (n * dir).sum() < 0 ? n : -n, grazing: viewCos)
            }
        }
        // Lids: the planes y = ±h/2 inside the circle.
        for y in [-h / 2, h / 2] where dir.y != 0 {
            let t = (y - o.y) / dir.y
            let p = o + t * dir
            if t > 0, t < best, p.x * p.x + p.z * p.z <= r * r { best = t; hit = .lid(normal: SIMD3(0, y > 0 ? 1 : -1, 0)) }
        }
        return hit
    }

    @Test("golden image: the rasterised can equals an analytic ray caster away from edges, seams and grazing views")
    func canMatchesRayCaster() throws {
        let (tw, th, size) = (48, 24, 128)
        let r = try renderer(Self.can, tw: tw, th: th, size: size)
        let tex = randomBuffer(tw * th * 3, seed: 7, lo: 0.1, hi: 0.9)
        let scene = [Float](repeating: 0.25, count: size * size * 3)
        let mask = [Float](repeating: 1, count: tw * th)
        var worst = 0.0, compared = 0, lidPixels = 0, mismatchedCoverage = 0
        for pose in [ObjectPose(azimuth: 30, elevation: 50, height: 0.8, x: 0.4, y: 0.55, lightAzimuth: 60, lightElevation: 30, ambient: 0.4),
                     ObjectPose(azimuth: 200, elevation: 5, roll: 10, height: 0.7, x: 0.6, y: 0.5, lightAzimuth: 250, lightElevation: 60, ambient: 0.5)] {
            let (img, _) = try r.forward(texture: tex, mask: mask, scene: scene, sample: sample(pose))
            let cam = try r.mesh!.camera(for: pose, fieldOfViewDegrees: 50, sceneWidth: size, sceneHeight: size)
            let l = pose.lightDirection
            var hits: [Hit] = []
            for y in 0..<size { for x in 0..<size { hits.append(Self.cast(px: Double(x) + 0.5, py: Double(y) + 0.5, cam: cam, d: 66, h: 115)) } }
            func kind(_ i: Int) -> Int { switch hits[i] { case .none: 0; case .label: 1; case .lid: 2 } }
            for y in 1..<(size - 1) {
                for x in 1..<(size - 1) {
                    let i = y * size + x
                    // Silhouettes and the label–lid edge: one pixel either side may differ.
                    let k = kind(i)
                    guard [i - 1, i + 1, i - size, i + size].allSatisfy({ kind($0) == k }) else { continue }
                    var expected: SIMD3<Double>
                    switch hits[i] {
                    case .none:
                        expected = SIMD3(repeating: 0.25)
                        if img[i * 3] != 0.25 { mismatchedCoverage += 1 }
                        continue
                    case let .lid(n):
                        let shade = pose.ambient + (1 - pose.ambient) * max(0, (n * l).sum())
                        expected = Mesh.lidColor * shade
                        lidPixels += 1
                    case let .label(u, v, n, grazing):
                        // Magnified (mip level 0) and away from the seam's clamped edge texels.
                        guard grazing > 0.5, u * Double(tw) > 1, u * Double(tw) < Double(tw - 1) else { continue }
                        let s = u * Double(tw) - 0.5, t = (1 - v) * Double(th) - 0.5
                        let i0 = Int(s.rounded(.down)), j0 = Int(t.rounded(.down)), fx = s - Double(i0), fy = t - Double(j0)
                        func texel(_ i: Int, _ j: Int) -> SIMD3<Double> {
                            let o = (min(max(j, 0), th - 1) * tw + min(max(i, 0), tw - 1)) * 3
                            return SIMD3(Double(tex[o]), Double(tex[o + 1]), Double(tex[o + 2]))
                        }
                        let top = texel(i0, j0) * (1 - fx) + texel(i0 + 1, j0) * fx
                        let bottom = texel(i0, j0 + 1) * (1 - fx) + texel(i0 + 1, j0 + 1) * fx
                        let shade = pose.ambient + (1 - pose.ambient) * max(0, (n * l).sum())
                        expected = (top * (1 - fy) + bottom * fy) * shade
                    }
                    for c in 0..<3 { worst = max(worst, abs(Double(img[i * 3 + c]) - expected[c])) }
                    compared += 1
                }
            }
        }
        print("mesh golden: \(compared) pixels compared (\(lidPixels) on lids), worst |difference| \(worst), coverage mismatches \(mismatchedCoverage)")
        #expect(compared > 3000 && lidPixels > 200)
        #expect(worst < 3e-3)
        #expect(mismatchedCoverage == 0)
    }

    @Test("conventions: azimuth 0 shows u = 0, positive azimuth brings u = 0.75 to the front; elevation shows the top lid; height and placement in the frame")
    func conventions() throws {
        let (tw, th, size) = (64, 32, 160)
        let r = try renderer(Self.can, tw: tw, th: th, size: size)
        // Red = u (0…1 across), green = 1 − v (0 at the top row… no: the top row is v = 1, so green = row / th).
        var tex = [Float](repeating: 0, count: tw * th * 3)
        for j in 0..<th { for i in 0..<tw { tex[(j * tw + i) * 3] = (Float(i) + 0.5) / Float(tw); tex[(j * tw + i) * 3 + 1] = (Float(j) + 0.5) / Float(th) } }
        let scene = [Float](repeating: 0, count: size * size * 3)
        let mask = [Float](repeating: 1, count: tw * th)
        func render(_ pose: ObjectPose) throws -> [Float] { try r.forward(texture: tex, mask: mask, scene: scene, sample: sample(pose)).image }
        func centreU(_ img: [Float]) -> Float { img[((size / 2) * size + size / 2) * 3] }
        // Azimuth 0, centred: the centre column is the seam (u ≈ 0 or ≈ 1, clamped at each side).
        let front = try render(ObjectPose(azimuth: 0.5, height: 0.6))
        #expect(centreU(front) < 0.05 || centreU(front) > 0.95)
        let turned = try render(ObjectPose(azimuth: 90, height: 0.6))
        #expect(abs(centreU(turned) - 0.75) < 0.03, "azimuth 90 shows u = \(centreU(turned))")
        // Left of the centre, azimuth 90 shows smaller u (u increases to the right on the front).
        #expect(turned[((size / 2) * size + size / 2 - 10) * 3] < centreU(turned))
        // Top row of the label at the top: green grows downward.
        let col = size / 2
        var rows: [Int] = []
        for y in 0..<size where turned[(y * size + col) * 3 + 2] == 0 && turned[(y * size + col) * 3 + 1] > 0 { rows.append(y) }
        #expect(turned[(rows.first! * size + col) * 3 + 1] < turned[(rows.last! * size + col) * 3 + 1])
        // The image's height: 0.6 of 160 = 96 rows.
        #expect((95...97).contains(rows.count), "the can is \(rows.count) rows tall")
        // Elevation 0 shows no lid; 30° shows the top lid above the label (blue = lid colour).
        func lidRows(_ img: [Float]) -> [Int] { (0..<size).filter { img[($0 * size + col) * 3 + 2] > 0.5 } }
        #expect(lidRows(try render(ObjectPose(elevation: 0, height: 0.6))).isEmpty)
        let fromAbove = try render(ObjectPose(elevation: 30, height: 0.6))
        let lid = lidRows(fromAbove)
        #expect(lid.count > 10)
        let label = (0..<size).filter { fromAbove[($0 * size + col) * 3 + 2] == 0 && fromAbove[($0 * size + col) * 3 + 1] > 0 }
        #expect(lid.max()! < label.min()!)
        // Placement: x = 0 touches the left edge, 1 the right edge.
        for (x, near) in [(0.0, 0), (1.0, size - 1)] {
            let img = try render(ObjectPose(height: 0.6, x: x))
            let cols = (0..<size).filter { img[((size / 2) * size + $0) * 3 + 1] > 0 }
            #expect(abs((x == 0 ? cols.min()! : cols.max()!) - near) <= 1, "x = \(x): columns \(cols.min()!)…\(cols.max()!)")
        }
        // Light from the camera's side lights the front fully; from behind, only ambient.
        let lit = try render(ObjectPose(azimuth: 90, height: 0.6, lightAzimuth: 0, lightElevation: 0, ambient: 0.2))
        let dark = try render(ObjectPose(azimuth: 90, height: 0.6, lightAzimuth: 180, lightElevation: 0, ambient: 0.2))
        #expect(abs(centreU(lit) - centreU(turned)) < 0.01)
        #expect(abs(centreU(dark) - 0.2 * centreU(turned)) < 0.01)
    }

    // Gradient checks: texture values in [0.25, 0.75] and lighting/printer keep every clamp's
    // input inside (0, 1), so the renderer is linear in the texture there (see RendererTests).
    func check(_ mesh: Mesh, tw: Int, th: Int, size: Int, sample s: TransformSample, seed: UInt64) throws {
        let r = try renderer(mesh, tw: tw, th: th, size: size)
        let tex = randomBuffer(tw * th * 3, seed: seed, lo: 0.25, hi: 0.75)
        let scene = randomBuffer(size * size * 3, seed: seed + 1, lo: 0.2, hi: 0.8)
        let res = try gradCheck(renderer: r, texture: tex, mask: [Float](repeating: 1, count: tw * th), scene: scene, sample: s, seed: seed + 2)
        print("mesh gradcheck seed \(seed): \(res.checked) texture elements, max |fd - analytic| \(res.maxAbsError), max |grad| \(res.maxAbsGradient)")
        #expect(res.maxAbsGradient > 0.05, "gradient vanishes: \(res)")
        #expect(res.maxAbsError < 2e-4, "max |fd - analytic| = \(res.maxAbsError), max |grad| = \(res.maxAbsGradient)")
    }

    @Test func gradientMagnifiedCanWithShading() throws {
        var s = sample(ObjectPose(azimuth: 40, elevation: 20, height: 0.8, lightAzimuth: 100, lightElevation: 30, ambient: 0.4))
        s.brightness = 0.9; s.contrast = 0.9; s.colorGain = [1.05, 0.95, 1]
        try check(try Mesh.cylinder(diameter: 66, height: 115, segments: 24), tw: 8, th: 6, size: 40, sample: s, seed: 300)
    }

    @Test func gradientMinifiedBoxThroughPrinterAndBlur() throws {
        // A 32×24 net onto a box ~20 px across: footprints of 1–4 texels, trilinear between levels.
        var s = sample(ObjectPose(azimuth: 35, elevation: 25, height: 0.7, lightAzimuth: 20, lightElevation: 50, ambient: 0.5))
        s.printerGain = [0.9, 0.85, 0.95]; s.printerBias = [0.05, 0.03, 0.04]; s.blurSigma = 0.8; s.gamma = 1.1
        try check(try Mesh.box(width: 60, height: 80, depth: 40), tw: 32, th: 24, size: 28, sample: s, seed: 310)
    }

    @Test func gradientSphereWithNoiseMotionBlurAndResampling() throws {
        // (JPEG's quantisation is straight-through in the backward pass, so it has no place in a
        // finite-difference check; RendererTests checks its linear part's adjoint.)
        var s = sample(ObjectPose(azimuth: 10, elevation: 10, height: 0.8, lightAzimuth: 300, lightElevation: 20, ambient: 0.3))
        s.noiseSigma = 0.01; s.noiseSeed = 5; s.motionBlurLength = 2; s.motionBlurAngle = 30; s.resampleScale = 0.7
        try check(try Mesh.sphere(diameter: 80, segments: 16), tw: 12, th: 6, size: 32, sample: s, seed: 320)
    }

    @Test("a pose renders the same image twice, and fixed-colour lids get no gradient")
    func deterministicAndLidsFixed() throws {
        let r = try renderer(Self.can, tw: 16, th: 8, size: 64)
        let tex = randomBuffer(16 * 8 * 3, seed: 1), scene = randomBuffer(64 * 64 * 3, seed: 2)
        let s = sample(ObjectPose(azimuth: 10, elevation: 89, height: 0.5, ambient: 1))  // from straight above: lid only
        let a = try r.forward(texture: tex, mask: [Float](repeating: 1, count: 128), scene: scene, sample: s)
        let b = try r.forward(texture: tex, mask: [Float](repeating: 1, count: 128), scene: scene, sample: s)
        #expect(a.image.map(\.bitPattern) == b.image.map(\.bitPattern))
        var g = [Float](repeating: 0, count: tex.count)
        try r.backward(dImage: [Float](repeating: 1, count: 64 * 64 * 3), cache: a.cache, dTexture: &g)
        #expect(g.allSatisfy { $0 == 0 })
        let centre = (32 * 64 + 32) * 3
        #expect(abs(Double(a.image[centre]) - Mesh.lidColor.x) < 1e-6)
    }

    @Test("refusals: a flat sample on a mesh, an object on a patch renderer, repeating UVs, a camera inside the object, a mismatched texture size")
    func refusals() throws {
        let r = try renderer(Self.can, tw: 8, th: 4, size: 32)
        let tex = [Float](repeating: 0.5, count: 96), mask = [Float](repeating: 1, count: 32), scene = [Float](repeating: 0, count: 32 * 32 * 3)
        #expect { try r.forward(texture: tex, mask: mask, scene: scene, sample: TransformSample()) } throws: { "\($0)".contains("no object pose") }
        let flat = try Renderer(textureWidth: 8, textureHeight: 4, sceneWidth: 32, sceneHeight: 32)
        #expect { try flat.forward(texture: tex, mask: mask, scene: scene, sample: sample(ObjectPose())) } throws: { "\($0)".contains("flat patch") }
        var tiled = try Mesh.box(width: 10, height: 10, depth: 10)
        tiled.uvs[0] = SIMD2(2, 0)
        #expect { try MeshSurface(mesh: tiled, textureWidth: 8, textureHeight: 8) } throws: { "\($0)".contains("outside [0, 1]") }
        let plate = try Mesh.box(width: 100, height: 5, depth: 100)
        let pr = try renderer(plate, tw: 8, th: 8, size: 32)
        #expect { try pr.forward(texture: [Float](repeating: 0.5, count: 192), mask: [Float](repeating: 1, count: 64), scene: scene,
                                 sample: sample(ObjectPose(height: 1))) } throws: { "\($0)".contains("into the object") }
        #expect { try Renderer(textureWidth: 8, textureHeight: 8, sceneWidth: 32, sceneHeight: 32, mesh: try MeshSurface(mesh: Self.can, textureWidth: 8, textureHeight: 4)) }
            throws: { "\($0)".contains("8×4") }
        #expect { try ObjectPose(height: 0).validate() } throws: { "\($0)".contains("object.height") }
    }

    @Test("the object preset samples poses in its ranges and JSON round-trips, refusing unknown keys")
    func distribution() throws {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            let s = TransformDistribution.object.sample(imageWidth: 224, imageHeight: 224, using: &rng)
            let o = try #require(s.object)
            #expect((0...360).contains(o.azimuth) && (0...30).contains(o.elevation) && (0.3...0.5).contains(o.height))
        }
        let data = try TransformDistribution.object.jsonData()
        #expect(try TransformDistribution.fromJSON(data) == .object)
        let bad = Data(#"{"object": {"azimut": {"min": 0, "max": 1}}}"#.utf8)
        #expect { try TransformDistribution.fromJSON(bad) } throws: { "\($0)".contains("'azimut'") }
        // Adding `object` left the patch presets' samples unchanged (it draws last, and only when set).
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        var d = TransformDistribution.physical
        let s1 = d.sample(imageWidth: 224, imageHeight: 224, using: &a)
        d.object = ObjectPoseDistribution()
        var s2 = d.sample(imageWidth: 224, imageHeight: 224, using: &b)
        s2.object = nil
        #expect(s1 == s2)
    }
}

