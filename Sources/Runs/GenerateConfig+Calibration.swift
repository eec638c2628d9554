// Wiring a measured printer→camera colour calibration (`robustpatch calibrate`) into a run's
// settings: its printer model replaces the distribution's, its measured colours become the
// printable palette of the non-printability loss.
import Attack
import Calibration
import Transforms

extension GenerateConfig {
    /// Relative spread sampled around each calibrated printer gain (±3 %): the calibration is one
    /// print and one photo, so the run should not overfit its exact values.
    public static let calibratedGainSpread = 0.03
    /// Spread sampled around each calibrated printer offset (±0.01 in [0, 1] units), for the same reason.
    public static let calibratedBiasSpread = 0.01
    /// NPS weight of a calibrated run when none is given: the weight the print-and-capture runs
    /// in the README were made with.
    public static let calibratedNPSWeight = 0.05

    /// Takes the calibration in `path`: printer gain and offset ranges around its measured values,
    /// its palette for NPS, and (unless `npsWeightGiven`) `calibratedNPSWeight`.
    public mutating func apply(calibration cal: ColorCalibration, path: String, npsWeightGiven: Bool) {
        let (gain, bias) = cal.printerGainBias() ?? (cal.channelGain, cal.channelBias)
        let g = Self.calibratedGainSpread, b = Self.calibratedBiasSpread
        distribution.printerChannelGain = gain.map { ValueRange(max(0, $0 * (1 - g)), $0 * (1 + g)) }
        distribution.printerChannelBias = bias.map { ValueRange(max(-1, $0 - b), min(1, $0 + b)) }
        paletteRGB = cal.palette.map { [$0.x, $0.y, $0.z] }
        if !npsWeightGiven { npsWeight = Self.calibratedNPSWeight }
        calibrationPath = path
    }
}
