// EXIF Orientation (TIFF tag 0x0112): parsing it from a JPEG's APP1 payload and applying it.
// Not an EXIF library: only IFD0's Orientation entry is read; every other tag is ignored.

/// How a stored image must be transformed to display upright (EXIF 2.3, tag 0x0112).
enum EXIFOrientation: Int, Sendable {
    case up = 1              // as stored
    case mirrored = 2        // flip left-right
    case down = 3            // rotate 180°
    case downMirrored = 4    // flip top-bottom
    case leftMirrored = 5    // transpose (swap x and y)
    case right = 6           // rotate 90° clockwise
    case rightMirrored = 7   // transverse (flip across the anti-diagonal)
    case left = 8            // rotate 90° counter-clockwise

    /// Reads the Orientation from a TIFF structure (the bytes after "Exif\0\0"): header "II*\0"
    /// or "MM\0*", offset of IFD0, then 12-byte entries. Returns nil when absent or malformed.
    static func parse(tiff: UnsafeBufferPointer<UInt8>) -> EXIFOrientation? {
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        if tiff[0] == 0x49 && tiff[1] == 0x49 {
            littleEndian = true
        } else if tiff[0] == 0x4D && tiff[1] == 0x4D {
            littleEndian = false
        } else {
            return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            let a = Int(tiff[at]), b = Int(tiff[at + 1])
            return littleEndian ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let lo = u16(littleEndian ? at : at + 2), let hi = u16(littleEndian ? at + 2 : at)
            else { return nil }
            return lo | hi << 16
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<count {
            let at = ifd + 2 + 12 * entry
            guard let tag = u16(at) else { return nil }
            guard tag == 0x0112 else { continue }
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            guard u16(at + 2) == 3, u32(at + 4) == 1, let value = u16(at + 8) else { return nil }
            return EXIFOrientation(rawValue: value)
        }
        return nil
    }

    /// Whether displaying swaps width and height.
    var swapsAxes: Bool { rawValue >= 5 }
}

extension Image {
    /// The image flipped left–right (EXIF orientation 2).
    public func mirroredLeftRight() -> Image { applying(.mirrored) }

    /// The image as it should be displayed when stored with EXIF `orientation`.
    func applying(_ orientation: EXIFOrientation) -> Image {
        if orientation == .up { return self }
        let w = width, h = height, c = channels
        let outWidth = orientation.swapsAxes ? h : w
        let outHeight = orientation.swapsAxes ? w : h
        // Source pixel for display pixel (dx, dy) is base + dx * stepX + dy * stepY (in pixels).
        let base: Int, stepX: Int, stepY: Int
        switch orientation {
        case .up: (base, stepX, stepY) = (0, 1, w)
        case .mirrored: (base, stepX, stepY) = (w - 1, -1, w)
        case .down: (base, stepX, stepY) = ((h - 1) * w + (w - 1), -1, -w)
        case .downMirrored: (base, stepX, stepY) = ((h - 1) * w, 1, -w)
        case .leftMirrored: (base, stepX, stepY) = (0, w, 1)                     // sx = dy, sy = dx
        case .right: (base, stepX, stepY) = ((h - 1) * w, -w, 1)                 // sx = dy, sy = h-1-dx
        case .rightMirrored: (base, stepX, stepY) = ((h - 1) * w + (w - 1), -w, -1) // sx = w-1-dy, sy = h-1-dx
        case .left: (base, stepX, stepY) = (w - 1, w, -1)                        // sx = w-1-dy, sy = dx
        }
        let count = w * h * c
        let out = [Float](unsafeUninitializedCapacity: count) { dst, initialized in
            pixels.withUnsafeBufferPointer { src in
                var d = 0
                for dy in 0..<outHeight {
                    var s = base &+ dy &* stepY
                    for _ in 0..<outWidth {
                        let sc = s &* c
                        for k in 0..<c { dst[d &+ k] = src[sc &+ k] }
                        d = d &+ c
                        s = s &+ stepX
                    }
                }
            }
            initialized = count
        }
        return Image(uncheckedWidth: outWidth, height: outHeight, channels: c, pixels: out)
    }
}
