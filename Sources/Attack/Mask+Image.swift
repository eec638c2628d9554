// The one mask rule: how a mask image becomes a patch `Mask`, for every command that reads one
// (generate --shape FILE.png, run folders' mask.png, --mask, an RGBA patch's alpha).
import Imaging
import Transforms

extension Mask {
    /// A mask from an image: its **alpha channel when it has one, else its luminance**
    /// (Rec. 709 weights 0.2126, 0.7152, 0.0722 on the stored values: white = patch, black =
    /// paper; a grey pixel's value exactly, so the grey mask.png a run writes reads back as the
    /// alpha of its patch_rgba.png), resized bilinearly (`Image.resized`) to `width`×`height` when its size differs,
    /// clamped to [0, 1]. Throws when no value is above 0.5 (the mask marks no pixel).
    public init(image: Image, width: Int, height: Int) throws {
        let img = image.width == width && image.height == height ? image : image.resized(width: width, height: height)
        let p = img.pixels
        let alpha = (0..<(width * height)).map { i -> Float in
            let v: Float
            if img.channels == 4 {
                v = p[i * 4 + 3]
            } else {
                let (r, g, b) = (p[i * 3], p[i * 3 + 1], p[i * 3 + 2])
                v = r == g && g == b ? r : 0.2126 * r + 0.7152 * g + 0.0722 * b
            }
            return min(max(v, 0), 1)
        }
        try self.init(alpha: alpha, width: width, height: height)
    }
}
