// The renderer's surface stage for a textured triangle mesh (issue 22): camera from an
// `ObjectPose`, z-buffer rasterisation of the triangles (visibility at pixel centres), and per
// covered pixel the texture taps of its triangle, Lambert + ambient shading and the composite.
// The printer before it and the lighting and camera effects after it are the patch renderer's.
//
// Why the patch code serves meshes: under a pinhole camera, the map from a planar triangle's
// texture coordinates to image pixels is a homography, `sceneFromTexel` = K · [Q1−Q0 | Q2−Q0 | Q0]
// · (texel → barycentric), with Q the triangle's corners in camera coordinates. Its inverse
// gives each pixel's texture coordinates (perspective-correct) and their footprint (mip level)
// exactly as for a patch, so the same trilinear taps, mip pyramid and adjoint scatter apply, and
// the backward pass is the patch renderer's with each pixel's shade as one more factor.
//
// Not modelled: silhouette anti-aliasing (coverage is decided at pixel centres; the camera's
// blur and resampling soften edges), shadows, specular highlights, texture wrapping (u and v
// must stay in [0, 1]; the cylinder's seam samples each side's edge texels).
import Foundation
import Meshes

/// A mesh prepared for textures of one size: positions centred on the bounding box, each
/// triangle's corners in texel coordinates and unit normals. Built once per run.
public struct MeshSurface: Sendable {
    public let textureWidth: Int, textureHeight: Int
    public let triangleCount: Int
    /// Textured triangles whose texture coordinates have no area (they cannot show the texture):
    /// they are drawn in a fixed grey.
    public let trianglesWithoutTextureArea: Int
    /// The area the texture covers, mm² (`Mesh.texturedArea`).
    public let texturedArea: Double
    /// Object frame, mm, centred on the bounding box's centre.
    let positions: [SIMD3<Double>]
    /// 3 per triangle.
    let cornerPosition: [Int]
    /// 3 per triangle: (u · Tw, (1 − v) · Th), the module's texel coordinates (y down).
    let cornerTexel: [SIMD2<Double>]
    /// 3 per triangle, unit, object frame (the face normal where the mesh has none).
    let cornerNormal: [SIMD3<Double>]
    /// Per triangle: unit, outward (counter-clockwise corners).
    let faceNormal: [SIMD3<Double>]
    /// Per triangle: nil when it shows the texture, else its fixed colour.
    let color: [SIMD3<Float>?]

    /// The grey of triangles that should show the texture but whose texture coordinates have no area.
    static let noTextureGrey = SIMD3<Float>(0.5, 0.5, 0.5)

    public init(mesh: Mesh, textureWidth: Int, textureHeight: Int) throws {
        do { try mesh.validate() } catch { throw TransformError.invalid(field: "mesh", reason: "\(error)") }
        guard textureWidth > 0, textureHeight > 0, textureWidth <= 1 << 15, textureHeight <= 1 << 15 else {
            throw TransformError.invalid(field: "mesh texture", reason: "\(textureWidth)×\(textureHeight) is not a texture size (1…32768 a side)")
        }
        for (i, t) in mesh.uvs.enumerated() where !((-1e-9)...(1 + 1e-9)).contains(t.x) || !((-1e-9)...(1 + 1e-9)).contains(t.y) {
            throw TransformError.invalid(field: "mesh", reason: "texture coordinate \(i + 1) is (\(t.x), \(t.y)), outside [0, 1]: repeating textures are not supported; scale the UV map into [0, 1]")
        }
        self.textureWidth = textureWidth; self.textureHeight = textureHeight
        let b = mesh.bounds, centre = (b.min + b.max) / 2
        positions = mesh.positions.map { $0 - centre }
        let tw = Double(textureWidth), th = Double(textureHeight)
        var cp: [Int] = [], ct: [SIMD2<Double>] = [], cn: [SIMD3<Double>] = [], fn: [SIMD3<Double>] = [], col: [SIMD3<Float>?] = []
        var noArea = 0
        for k in mesh.triangles.indices {
            let t = mesh.triangles[k]
            let p = t.map { mesh.positions[$0.position] }
            let n = normalized(cross3(p[1] - p[0], p[2] - p[0]))
            fn.append(n)
            var texel: [SIMD2<Double>] = []
            for c in t {
                cp.append(c.position)
                let uv = mesh.uvs[c.uv]
                texel.append(SIMD2(min(max(uv.x, 0), 1) * tw, (1 - min(max(uv.y, 0), 1)) * th))
                let given = c.normal.map { mesh.normals[$0] } ?? n
                let len = (given * given).sum().squareRoot()
                cn.append(len > 1e-12 ? given / len : n)
            }
            ct += texel
            if let c = mesh.isTextured(k) ? nil : mesh.triangleColors[k] {
                col.append(SIMD3(Float(c.x), Float(c.y), Float(c.z)))
            } else {
                let d1 = texel[1] - texel[0], d2 = texel[2] - texel[0]
                if abs(d1.x * d2.y - d1.y * d2.x) < 1e-9 { col.append(Self.noTextureGrey); noArea += 1 } else { col.append(nil) }
            }
        }
        cornerPosition = cp; cornerTexel = ct; cornerNormal = cn; faceNormal = fn; color = col
        triangleCount = mesh.triangles.count
        trianglesWithoutTextureArea = noArea
        texturedArea = mesh.texturedArea
    }

    /// The camera that shows this mesh in `pose` on a `sceneWidth` × `sceneHeight` image with a
    /// pinhole of `fieldOfViewDegrees` across the longer side (as for patches):
    /// 1. rotation camera-from-object R = Rz(roll) · Rx(elevation) · F · Ry(azimuth), F = diag(1, −1, −1)
    ///    (the object's y up becomes the camera's y down, its +z faces the camera);
    /// 2. distance D along the optical axis such that the image of the mesh (its vertices in
    ///    perspective) is `height` of the shorter side tall;
    /// 3. principal point (cx, cy) placing that outline at `x`, `y` of the room the frame leaves
    ///    around it (0: touching the left or top edge, 1: the right or bottom edge).
    public func camera(for pose: ObjectPose, fieldOfViewDegrees: Double, sceneWidth: Int, sceneHeight: Int) throws -> ObjectCamera {
        try pose.validate()
        let f = Camera(fieldOfViewDegrees: fieldOfViewDegrees, width: sceneWidth, height: sceneHeight).focal
        let d2r = Double.pi / 180
        let R = Mat3.rotationZ(pose.roll * d2r) * Mat3.rotationX(pose.elevation * d2r) * Mat3(SIMD3(1, 0, 0), SIMD3(0, -1, 0), SIMD3(0, 0, -1))
            * Mat3.rotationY(pose.azimuth * d2r)
        let rotated = positions.map { R * $0 }
        var lo = SIMD3(repeating: Double.infinity), hi = -lo
        for q in rotated { lo = pointwiseMin(lo, q); hi = pointwiseMax(hi, q) }
        let shorter = Double(min(sceneWidth, sceneHeight)), target = pose.height * shorter
        let outline = hi.y - lo.y
        guard outline > 1e-9 else {
            throw TransformError.invalid(field: "object", reason: "the mesh has no height in this view (azimuth \(pose.azimuth)°, elevation \(pose.elevation)°)")
        }
        let tooNear = TransformError.invalid(field: "object.height", reason: "\(pose.height) brings the camera into the object (it is \(Int(hi.z - lo.z)) mm deep and \(Int(outline)) mm tall in this view); use a smaller height")
        /// The image outline (min x, min y, max x, max y) for the principal point at 0.
        func outlineAt(_ D: Double) -> (SIMD2<Double>, SIMD2<Double>) {
            var a = SIMD2(Double.infinity, .infinity), b = -a
            for q in rotated { let p = SIMD2(q.x, q.y) * (f / (q.z + D)); a = pointwiseMin(a, p); b = pointwiseMax(b, p) }
            return (a, b)
        }
        // The orthographic distance first, then the perspective outline's height scaled to the
        // target (it is nearly ∝ 1/D, so a few steps settle it to 1e-9).
        var D = f * outline / target
        for _ in 0..<50 {
            guard lo.z + D > 0.05 * D else { throw tooNear }
            let (a, b) = outlineAt(D)
            let ratio = (b.y - a.y) / target
            if abs(ratio - 1) < 1e-9 { break }
            D *= ratio
        }
        guard lo.z + D > 0.05 * D else { throw tooNear }
        let (a, b) = outlineAt(D)
        func place(_ lo: Double, _ hi: Double, _ size: Int, _ t: Double) -> Double {
            let first = -lo, last = Double(size) - hi
            return first <= last ? first + (last - first) * t : (first + last) / 2
        }
        return ObjectCamera(rotation: R, distance: D, focal: f,
                            cx: place(a.x, b.x, sceneWidth, pose.x), cy: place(a.y, b.y, sceneHeight, pose.y))
    }
}

/// Where a `MeshSurface` is seen from in one sample: camera point q = R · p + (0, 0, D) for an
/// object-frame point p (mm, centred), image point (f · q.x / q.z + cx, f · q.y / q.z + cy).
public struct ObjectCamera: Sendable, Equatable {
    public let rotation: Mat3
    public let distance: Double
    public let focal: Double, cx: Double, cy: Double

    public func cameraPoint(_ p: SIMD3<Double>) -> SIMD3<Double> { rotation * p + SIMD3(0, 0, distance) }

    /// The image point of a camera point (non-finite at or behind the camera plane).
    public func project(_ q: SIMD3<Double>) -> SIMD2<Double> {
        q.z > 0 ? SIMD2(focal * q.x / q.z + cx, focal * q.y / q.z + cy) : SIMD2(.infinity, .infinity)
    }
}

/// A 3×3 Double matrix by rows (small geometry; not a homography type: no frames attached).
public struct Mat3: Sendable, Equatable {
    public var r0: SIMD3<Double>, r1: SIMD3<Double>, r2: SIMD3<Double>
    public init(_ r0: SIMD3<Double>, _ r1: SIMD3<Double>, _ r2: SIMD3<Double>) { self.r0 = r0; self.r1 = r1; self.r2 = r2 }
    /// The matrix whose columns are a, b, c.
    public init(columns a: SIMD3<Double>, _ b: SIMD3<Double>, _ c: SIMD3<Double>) {
        self.init(SIMD3(a.x, b.x, c.x), SIMD3(a.y, b.y, c.y), SIMD3(a.z, b.z, c.z))
    }
    public static func * (m: Mat3, v: SIMD3<Double>) -> SIMD3<Double> { SIMD3((m.r0 * v).sum(), (m.r1 * v).sum(), (m.r2 * v).sum()) }
    public static func * (a: Mat3, b: Mat3) -> Mat3 {
        func row(_ r: SIMD3<Double>) -> SIMD3<Double> { r.x * b.r0 + r.y * b.r1 + r.z * b.r2 }
        return Mat3(row(a.r0), row(a.r1), row(a.r2))
    }
    public var determinant: Double { (r0 * cross3(r1, r2)).sum() }
    /// The inverse, or nil when (nearly) singular relative to the matrix's scale.
    public var inverse: Mat3? {
        let c0 = cross3(r1, r2), c1 = cross3(r2, r0), c2 = cross3(r0, r1)
        let det = (r0 * c0).sum()
        let scale = max(pointwiseMax(r0, -r0).max(), pointwiseMax(r1, -r1).max(), pointwiseMax(r2, -r2).max())
        guard det.isFinite, scale > 0, abs(det) > 1e-14 * scale * scale * scale else { return nil }
        return Mat3(columns: c0 / det, c1 / det, c2 / det)
    }
    static func rotationX(_ a: Double) -> Mat3 { Mat3(SIMD3(1, 0, 0), SIMD3(0, cos(a), -sin(a)), SIMD3(0, sin(a), cos(a))) }
    static func rotationY(_ a: Double) -> Mat3 { Mat3(SIMD3(cos(a), 0, sin(a)), SIMD3(0, 1, 0), SIMD3(-sin(a), 0, cos(a))) }
    static func rotationZ(_ a: Double) -> Mat3 { Mat3(SIMD3(cos(a), -sin(a), 0), SIMD3(sin(a), cos(a), 0), SIMD3(0, 0, 1)) }
}

@inline(__always) func cross3(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inline(__always) func normalized(_ v: SIMD3<Double>) -> SIMD3<Double> {
    let l = (v * v).sum().squareRoot()
    return l > 0 ? v / l : v
}

/// What the surface stage leaves for the backward pass (see `RenderCache`).
struct SurfaceComposite {
    var box: (x0: Int, y0: Int, x1: Int, y1: Int)
    var alpha: [Float], warped: [Float], shade: [Float]
    var taps: [Taps]
}

extension Renderer {
    /// Rasterises `mesh` in `sample.object`'s pose over `img` (already holding the scene):
    /// textured pixels get the printed texture `P` (mip pyramid, `layout`) × shade, through the
    /// sample's lighting; fixed-colour pixels their colour × shade (no gradient: alpha 0 in the cache).
    func meshComposite(_ mesh: MeshSurface, pose: ObjectPose, sample: TransformSample, pyramid P: UnsafePointer<Float>,
                       maskPyramid M: UnsafePointer<Float>, layout: MipLayout, image img: UnsafeMutablePointer<Float>) throws -> SurfaceComposite {
        let W = sceneWidth, H = sceneHeight
        let cam = try mesh.camera(for: pose, fieldOfViewDegrees: sample.fieldOfViewDegrees, sceneWidth: W, sceneHeight: H)
        let q = mesh.positions.map(cam.cameraPoint)
        let screen = q.map(cam.project)
        // The box: every projected vertex, clipped to the image.
        var lo = SIMD2(Double.infinity, .infinity), hi = -lo
        for s in screen { lo = pointwiseMin(lo, s); hi = pointwiseMax(hi, s) }
        func clampI(_ v: Double, _ n: Int) -> Int { v.isFinite ? Int(min(max(v, 0), Double(n))) : (v > 0 ? n : 0) }
        let x0 = clampI(lo.x.rounded(.down), W), x1 = max(x0, clampI(hi.x.rounded(.up) + 1, W))
        let y0 = clampI(lo.y.rounded(.down), H), y1 = max(y0, clampI(hi.y.rounded(.up) + 1, H))
        let bw = x1 - x0, bh = y1 - y0
        var out = SurfaceComposite(box: (x0, y0, x1, y1), alpha: [Float](repeating: 0, count: bw * bh),
                                   warped: [Float](repeating: 0, count: bw * bh * 3), shade: [Float](repeating: 0, count: bw * bh), taps: [])
        if bw == 0 || bh == 0 { return out }

        // 1. Z-buffer: the nearest triangle at each pixel centre (1/z is affine in the image).
        var depth = [Double](repeating: .infinity, count: bw * bh)
        var owner = [Int32](repeating: -1, count: bw * bh)
        for k in 0..<mesh.triangleCount {
            let i0 = mesh.cornerPosition[3 * k], i1 = mesh.cornerPosition[3 * k + 1], i2 = mesh.cornerPosition[3 * k + 2]
            let (a, b, c) = (screen[i0], screen[i1], screen[i2])
            let (za, zb, zc) = (q[i0].z, q[i1].z, q[i2].z)
            guard za > 0, zb > 0, zc > 0 else { continue }
            let area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
            guard abs(area) > 1e-12 else { continue }
            let tx0 = max(x0, Int((min(a.x, b.x, c.x) - 0.5).rounded(.down))), tx1 = min(x1, Int((max(a.x, b.x, c.x) - 0.5).rounded(.up)) + 1)
            let ty0 = max(y0, Int((min(a.y, b.y, c.y) - 0.5).rounded(.down))), ty1 = min(y1, Int((max(a.y, b.y, c.y) - 0.5).rounded(.up)) + 1)
            if tx0 >= tx1 || ty0 >= ty1 { continue }
            let inv = 1 / area
            let (ia, ib, ic) = (1 / za, 1 / zb, 1 / zc)
            for y in ty0..<ty1 {
                let py = Double(y) + 0.5
                for x in tx0..<tx1 {
                    let px = Double(x) + 0.5
                    // Barycentrics; ≥ 0 on both sides of a shared edge, so no pixel falls between two triangles.
                    let la = ((b.x - px) * (c.y - py) - (b.y - py) * (c.x - px)) * inv
                    let lb = ((c.x - px) * (a.y - py) - (c.y - py) * (a.x - px)) * inv
                    let lc = 1 - la - lb
                    guard la >= 0, lb >= 0, lc >= 0 else { continue }
                    let z = 1 / (la * ia + lb * ib + lc * ic)
                    let bi = (y - y0) * bw + (x - x0)
                    if z < depth[bi] { depth[bi] = z; owner[bi] = Int32(k) }
                }
            }
        }

        // 2. Per covered pixel: its triangle's maps, taps, shade; lighting and composite.
        struct TriangleMaps { var baryFromScene: Mat3; var geometry: (p: Mat3, depthRow: SIMD3<Double>)?; var frontFacing: Bool }
        var maps = [TriangleMaps?](repeating: nil, count: mesh.triangleCount)
        func mapsOf(_ k: Int) -> TriangleMaps? {
            if let m = maps[k] { return m }
            let i = (mesh.cornerPosition[3 * k], mesh.cornerPosition[3 * k + 1], mesh.cornerPosition[3 * k + 2])
            let (q0, q1, q2) = (q[i.0], q[i.1], q[i.2])
            func K(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(cam.focal * v.x + cam.cx * v.z, cam.focal * v.y + cam.cy * v.z, v.z) }
            let sceneFromBary = Mat3(columns: K(q1 - q0), K(q2 - q0), K(q0))
            guard let baryFromScene = sceneFromBary.inverse else { return nil }
            var geometry: (p: Mat3, depthRow: SIMD3<Double>)? = nil
            if mesh.color[k] == nil {
                let t0 = mesh.cornerTexel[3 * k], t1 = mesh.cornerTexel[3 * k + 1], t2 = mesh.cornerTexel[3 * k + 2]
                let texelFromBary = Mat3(SIMD3(t1.x - t0.x, t2.x - t0.x, t0.x), SIMD3(t1.y - t0.y, t2.y - t0.y, t0.y), SIMD3(0, 0, 1))
                guard let baryFromTexel = texelFromBary.inverse else { return nil }
                geometry = (texelFromBary * baryFromScene, (sceneFromBary * baryFromTexel).r2)
            }
            let facing = (cam.rotation * mesh.faceNormal[k] * q0).sum() < 0
            let m = TriangleMaps(baryFromScene: baryFromScene, geometry: geometry, frontFacing: facing)
            maps[k] = m
            return m
        }
        var geo = WarpGeometry(patchFromScene: .identity, sceneFromPatch: .identity, layout: layout, cullsFar: false)
        let light = Lighting(sample)
        let toLight = pose.lightDirection, ambient = pose.ambient
        out.taps.reserveCapacity(bw * bh / 2)
        for y in y0..<y1 {
            for x in x0..<x1 {
                let bi = (y - y0) * bw + (x - x0)
                let k = Int(owner[bi])
                guard k >= 0, let m = mapsOf(k) else { continue }
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                // Shade from the normal interpolated at the pixel (perspective-correct barycentrics).
                let h = m.baryFromScene * SIMD3(px, py, 1)
                let b1 = h.x / h.z, b2 = h.y / h.z
                let n0 = mesh.cornerNormal[3 * k], n1 = mesh.cornerNormal[3 * k + 1], n2 = mesh.cornerNormal[3 * k + 2]
                var n = normalized(n0 + b1 * (n1 - n0) + b2 * (n2 - n0))
                if !m.frontFacing { n = -n }
                let shade = Float(ambient + (1 - ambient) * max(0, (n * toLight).sum()))
                let o = (y * W + x) * 3
                guard let g = m.geometry else {
                    let c = mesh.color[k] ?? MeshSurface.noTextureGrey
                    img[o] = light.forward(shade * c.x, 0); img[o + 1] = light.forward(shade * c.y, 1); img[o + 2] = light.forward(shade * c.z, 2)
                    continue
                }
                geo.setHomography(g.p, depthRow: g.depthRow)
                guard let t = geo.taps(x: px, y: py) else { continue }
                var (r, gr, bl, _) = t.a.sample(P, M)   // the mask is not used on meshes: coverage is the alpha
                if t.twoLevels {
                    let (r1, g1, b1, _) = t.b.sample(P, M)
                    r += r1; gr += g1; bl += b1
                }
                out.taps.append(t)
                let wr = shade * r, wg = shade * gr, wb = shade * bl
                out.alpha[bi] = 1; out.shade[bi] = shade
                out.warped[bi * 3] = wr; out.warped[bi * 3 + 1] = wg; out.warped[bi * 3 + 2] = wb
                img[o] = light.forward(wr, 0); img[o + 1] = light.forward(wg, 1); img[o + 2] = light.forward(wb, 2)
            }
        }
        return out
    }
}

extension WarpGeometry {
    /// Points the warp at another texel-from-scene homography (one mesh triangle's).
    @inline(__always) mutating func setHomography(_ m: Mat3, depthRow d: SIMD3<Double>) {
        p = (m.r0.x, m.r0.y, m.r0.z, m.r1.x, m.r1.y, m.r1.z, m.r2.x, m.r2.y, m.r2.z)
        depthRow = (d.x, d.y, d.z)
    }
}
