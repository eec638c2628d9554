// `CalibrationOutputs`: the three files `calibrate` writes (calibration JSON, palette text,
// rectified check PNG), named and checked before any work, so a bad path fails at once and never
// after another output was written. Not the writing itself (ColorCalibration, Imaging).
import Foundation
import Imaging

public struct CalibrationOutputs: Sendable, Equatable {
    public var calibration: String
    public var palette: String
    public var rectified: String

    /// The outputs for `--out`, `--palette-out` and `--rectified-out` (nil: beside `out`, named
    /// OUT-palette.txt and OUT-rectified.png). Throws `outputPath` when `out` does not end in
    /// .json or the rectified image in .png, or when an output's folder is missing, is not a
    /// folder or is not writable, or the output is itself a folder; `sameOutput` when two
    /// outputs are the same file.
    ///
    /// `inputs` (option, path), e.g. the photo and the chart layout, must not be overwritten by
    /// an output either (`sameOutput`).
    public init(out: String, paletteOut: String? = nil, rectifiedOut: String? = nil,
                inputs: [(option: String, path: String)] = []) throws(CalibrationError) {
        guard out.lowercased().hasSuffix(".json") else {
            throw .outputPath(option: "--out", path: out, reason: "the calibration is JSON, so the name must end in .json")
        }
        let stem = (out as NSString).deletingPathExtension
        calibration = out
        palette = paletteOut ?? stem + "-palette.txt"
        rectified = rectifiedOut ?? stem + "-rectified.png"
        let options = ["--out", paletteOut == nil ? "--palette-out (its default)" : "--palette-out",
                       rectifiedOut == nil ? "--rectified-out (its default)" : "--rectified-out"]
        guard rectified.lowercased().hasSuffix(".png") else {
            throw .outputPath(option: options[2], path: rectified,
                              reason: "the rectified check image is written as PNG, so the name must end in .png")
        }
        let paths = [calibration, palette, rectified]
        for i in 0..<paths.count {
            for j in (i + 1)..<paths.count where FilePath.resolved(paths[i]) == FilePath.resolved(paths[j]) {
                throw .sameOutput(firstOption: options[i], secondOption: options[j], path: paths[j])
            }
        }
        for (inputOption, input) in inputs {
            for (option, path) in zip(options, paths) where FilePath.resolved(input) == FilePath.resolved(path) {
                throw .sameOutput(firstOption: inputOption, secondOption: option, path: path)
            }
        }
        for (option, path) in zip(options, paths) {
            if let problem = Self.folderProblem(path) { throw .outputPath(option: option, path: path, reason: problem) }
        }
    }

    /// Why a file cannot be written at `path` (its folder is missing, not a folder or not
    /// writable, or `path` is a folder), or nil. The file itself may or may not exist.
    public static func folderProblem(_ path: String) -> String? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return "this is a folder; give a file name"
        }
        let folder = (path as NSString).deletingLastPathComponent
        let shown = folder.isEmpty ? "." : folder
        guard fm.fileExists(atPath: shown, isDirectory: &isDirectory) else {
            return "the folder \(shown) does not exist; create it first (mkdir -p '\(shown)') or choose another path"
        }
        guard isDirectory.boolValue else { return "\(shown) is a file, not a folder" }
        guard fm.isWritableFile(atPath: shown) else {
            return "the folder \(shown) is not writable; choose another path or change its permissions"
        }
        return nil
    }
}
