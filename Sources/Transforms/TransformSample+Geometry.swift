// Geometry of a sample: the pinhole camera and the physical-pose homography `sceneFromPatch`.
// Not the warp itself (Renderer+Warp.swift).
import Foundation

/// Pinhole camera: focal length (pixels) from a field of view across the longer scene side.
struct Camera {
    let focal: Double
    init(fieldOfViewDegrees: Double, width: Int, height: Int) {
        let half = fieldOfViewDegrees * .pi / 360
        focal = Double(max(width, height)) / 2 / tan(half)
    }
}

extension TransformSample {
    /// The homography from texture pixel coords to scene pixel coords.
    ///
    /// The patch is a flat physical rectangle of width 1 and height Th/Tw, centred on its own
    /// origin, texture x to the right and y down. It is rotated by R = Rz(roll)·Rx(pitch)·Ry(yaw),
    /// placed at depth D = focal / (size · shorter side) on the optical axis (so an unrotated
    /// patch appears `size` of the shorter side wide), and projected with K = [[f, 0, cx],
    /// [0, f, cy], [0, 0, 1]] whose principal point (cx, cy) is the sampled centre in pixels —
    /// i.e. the projection is translated to the centre. The third row is scaled so that it is
    /// the (positive) camera depth of a patch point; points with non-positive depth are behind
    /// the camera and the renderer drops them. With `quadrilateral` set, the 4-point fit instead.
    public func sceneFromPatch(textureWidth: Int, textureHeight: Int, sceneWidth: Int, sceneHeight: Int) throws -> Homography {
        try validate()
        guard textureWidth > 0, textureHeight > 0, sceneWidth > 0, sceneHeight > 0 else {
            throw TransformError.invalid(field: "sizes", reason: "texture and scene sizes must be positive, got \(textureWidth)×\(textureHeight) and \(sceneWidth)×\(sceneHeight)")
        }
        let tw = Double(textureWidth), th = Double(textureHeight)
        let sw = Double(sceneWidth), sh = Double(sceneHeight)
        if let q = quadrilateral {
            let from = [SIMD2(0, 0), SIMD2(tw, 0), SIMD2(tw, th), SIMD2(0, th)]
            let to = q.map { SIMD2($0.x * sw, $0.y * sh) }
            let h = try Homography(mapping: from, to: to)
            let w = h.applyHomogeneous(SIMD2(tw / 2, th / 2)).z
            return w < 0 ? h.scaled(by: -1) : h
        }
        return poseHomography(textureWidth: tw, textureHeight: th, sceneWidth: sceneWidth, sceneHeight: sceneHeight)
    }

    /// Pose homography without validation (used by sampling too).
    func poseHomography(textureWidth tw: Double, textureHeight th: Double, sceneWidth: Int, sceneHeight: Int) -> Homography {
        let f = Camera(fieldOfViewDegrees: fieldOfViewDegrees, width: sceneWidth, height: sceneHeight).focal
        let depth = f / (size * Double(min(sceneWidth, sceneHeight)))
        let cx = centerX * Double(sceneWidth), cy = centerY * Double(sceneHeight)
        let d2r = Double.pi / 180
        let (cyw, syw) = (cos(yaw * d2r), sin(yaw * d2r))
        let (cp, sp) = (cos(pitch * d2r), sin(pitch * d2r))
        let (cr, sr) = (cos(roll * d2r), sin(roll * d2r))
        let ry = Homography(unchecked: [cyw, 0, syw, 0, 1, 0, -syw, 0, cyw])
        let rx = Homography(unchecked: [1, 0, 0, 0, cp, -sp, 0, sp, cp])
        let rz = Homography(unchecked: [cr, -sr, 0, sr, cr, 0, 0, 0, 1])
        let r = rz.composed(with: rx).composed(with: ry).elements
        // [r1 r2 t] with t = (0, 0, depth): maps (X, Y, 1) on the patch plane to camera coords.
        let rt = Homography(unchecked: [r[0], r[1], 0, r[3], r[4], 0, r[6], r[7], depth])
        let k = Homography(unchecked: [f, 0, cx, 0, f, cy, 0, 0, 1])
        // Texture pixels -> physical patch coords (width 1, centred).
        let s = Homography(unchecked: [1 / tw, 0, -0.5, 0, 1 / tw, -th / (2 * tw), 0, 0, 1])
        return k.composed(with: rt).composed(with: s)
    }

    /// The 4 texture corners (TL, TR, BR, BL) in scene pixels for a texture of aspect
    /// `patchAspect` (height / width). Non-finite when a corner is behind the camera.
    public func projectedCorners(patchAspect: Double = 1, sceneWidth: Int, sceneHeight: Int) -> [SIMD2<Double>] {
        let tw = 1000.0, th = 1000.0 * patchAspect
        let h: Homography
        if quadrilateral != nil, let q = try? sceneFromPatch(textureWidth: 1000, textureHeight: max(1, Int(th.rounded())), sceneWidth: sceneWidth, sceneHeight: sceneHeight) {
            h = q
        } else {
            h = poseHomography(textureWidth: tw, textureHeight: th, sceneWidth: sceneWidth, sceneHeight: sceneHeight)
        }
        return [SIMD2(0, 0), SIMD2(tw, 0), SIMD2(tw, th), SIMD2(0, th)].map { p in
            let v = h.applyHomogeneous(p)
            return v.z > 0 ? SIMD2(v.x / v.z, v.y / v.z) : SIMD2(.infinity, .infinity)
        }
    }
}
