// The Transforms module: EOT transformation distributions, their plain-value samples, and a
// deterministic differentiable renderer (patch texture -> scene image). Not a classifier, loss or optimizer.
//
// # Transforms
//
// Expectation over Transformation (EOT; Athalye et al. 2018) optimizes a patch (Brown et al. 2017)
// over a *distribution* of renderings. This module owns that distribution:
//
// - ``TransformDistribution`` (Codable ranges + presets `digital`, `tabletop`) is sampled with an
//   explicit generator (``SplitMix64``) into a ``TransformSample``: a plain value (pose, size,
//   placement, lighting, printer, camera effects, noise seed) that can be logged and replayed.
// - ``TransformSample/sceneFromPatch(textureWidth:textureHeight:sceneWidth:sceneHeight:)`` turns
//   the sampled physical pose into a ``Homography`` through a pinhole camera.
// - ``Renderer`` renders one sample: forward (texture, mask, scene -> image) and backward
//   (dImage -> accumulated dTexture). Stages: printer -> mip-mapped bilinear warp -> lighting ->
//   alpha composite -> blur -> noise -> JPEG (4:2:0) -> clamp.
//
// ## Conventions (read these once, they hold everywhere in the module)
//
// - **Layout**: images are `Float`, row-major **(H, W, C)** with C = 3 (RGB), values in [0, 1];
//   masks are (H, W) alpha in [0, 1]. Index of (x, y, c) is `(y * W + x) * 3 + c`.
// - **Coordinates**: (x, y) order; x to the right, y **down**. The origin is the top-left
//   **corner** of the top-left pixel; the centre of pixel (i, j) is at (i + 0.5, j + 0.5).
//   Texture pixel coordinates (u, v) follow the same rule: the texture covers [0, Tw] × [0, Th].
// - **Homographies** are 3×3 row-major `Double`, named by frames, acting on column vectors
//   (x, y, 1): `sceneFromPatch` maps texture pixel coords -> scene pixel coords;
//   `patchFromScene` is its inverse. `a.composed(with: b)` = a ∘ b (apply b first).
// - **Angles** are in degrees at every public interface. Yaw turns the patch about the camera's
//   y axis, pitch about x, roll about z (optical axis); R = Rz(roll) · Rx(pitch) · Ry(yaw).
//   In the y-down image, positive roll turns the patch clockwise; positive yaw brings the
//   patch's right edge toward the camera; positive pitch brings its top edge toward the camera.
// - **Normalised placement coords**: centres and quadrilateral points in a sample or distribution
//   are fractions of the scene width (x) and height (y), so a sample renders on any scene size.
// - **Size**: apparent patch width (before rotation) as a fraction of the *shorter* scene side;
//   or, alternatively in a distribution, a distance in patch widths from the camera.
// - **Gradients**: `backward` *accumulates* into dTexture. Clamps pass the gradient where the
//   pre-clamp value is inside [0, 1] (inclusive) and stop it strictly outside; noise, JPEG's
//   quantisation and the final output clamp are straight-through (identity); JPEG's 4:2:0 chroma
//   subsampling passes its exact adjoint.
