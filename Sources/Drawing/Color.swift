// `Color`: a straight-alpha RGBA colour with Float channels in [0, 1], for drawing into an `Image`.
// Not colour-managed (values are written to the image as they are, like every `Image` sample).

/// A colour to draw with: red, green, blue and alpha in [0, 1], straight (not premultiplied) alpha.
/// Alpha 1 (the default) overwrites pixels; alpha below 1 blends "over" what is there.
public struct Color: Sendable, Equatable {
    public var red: Float
    public var green: Float
    public var blue: Float
    public var alpha: Float

    public init(red: Float, green: Float, blue: Float, alpha: Float = 1) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// A grey with all three channels `value`.
    public init(gray value: Float, alpha: Float = 1) {
        self.init(red: value, green: value, blue: value, alpha: alpha)
    }

    public static let black = Color(gray: 0)
    public static let white = Color(gray: 1)
    public static let gray = Color(gray: 0.5)
    public static let red = Color(red: 1, green: 0, blue: 0)
    public static let green = Color(red: 0, green: 0.6, blue: 0)
    public static let blue = Color(red: 0, green: 0, blue: 1)
    /// Fully transparent: drawing it changes nothing.
    public static let clear = Color(gray: 0, alpha: 0)
}
