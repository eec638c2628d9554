// Bad input for Printing, found by a sweep of the CLI: sizes that round to 0 printer pixels (a
// trap in the resize), patches evaluate refuses (no mask, fully transparent, 1 × 1), --dpi text,
// exponents in --size, and a non-PNG --out. Each must be a PrintError that names the input.
import Foundation
import Imaging
import Printing
import Testing

@Suite struct TinyPatchTests {
    @Test(arguments: ["0.001mm", "0.01mm", "0.05mm", "1mm", "4.9mm", "0.4cm"])
    func sizeUnderTheMinimumIsRefused(size: String) throws {
        let length = try PhysicalLength(parsing: size)
        let error = #expect(throws: PrintError.self) { try PrintSpec(patchWidth: length, dpi: 300) }
        guard case .patchTooSmall(_, let width, nil)? = error else {
            Issue.record("expected patchTooSmall, got \(String(describing: error))")
            return
        }
        #expect(width == length.millimetres)
        let message = error?.description ?? ""
        #expect(message.contains("--size") && message.contains("5 mm"), "\(message)")
    }

    @Test func theMinimumItselfPrints() throws {
        let spec = try PrintSpec(patchWidth: PhysicalLength(parsing: "5mm"), dpi: 72, printedOn: "2026-01-01")
        let printed = try PrintSheet.render(syntheticArtwork(), spec: spec)
        #expect(printed.layout.patchWidth == 14 && printed.patch.width == 14)
    }

    /// The library path: a spec whose fields were changed after `init` must throw, not trap in
    /// `Image.resized` (it did for any size that rounds to 0 printer pixels).
    @Test func renderRefusesAZeroPixelPatchInsteadOfTrapping() throws {
        var spec = try PrintSpec(patchWidth: PhysicalLength(parsing: "5cm"), dpi: 300)
        spec.patchWidth = PhysicalLength(millimetres: 0.001)
        #expect(throws: PrintError.patchTooSmall(size: "0.001 mm", widthMillimetres: 0.001, heightMillimetres: nil)) {
            try PrintSheet.render(syntheticArtwork(), spec: spec)
        }
        var lowDPI = try PrintSpec(patchWidth: PhysicalLength(parsing: "5mm"), dpi: 300)
        lowDPI.dpi = 1  // 5 mm at 1 dpi is 0.2 pixels
        #expect(throws: PrintError.badDPI(1)) { try PrintSheet.render(syntheticArtwork(), spec: lowDPI) }
        var noCopies = try PrintSpec(patchWidth: PhysicalLength(parsing: "5cm"), dpi: 100, paper: .fit)
        noCopies.copies = 0  // a division by zero in the fit layout
        #expect(throws: PrintError.badCopies(0)) { try PrintSheet.render(syntheticArtwork(), spec: noCopies) }
    }

    @Test func anElongatedTextureTooThinOnPaperIsRefused() throws {
        // 512 × 8 at 1 cm wide is 0.16 mm tall: 2 printer pixels at 300 dpi, 0 at 72.
        let artwork = syntheticArtwork(width: 512, height: 8)
        for dpi in [72, 300] {
            let spec = try PrintSpec(patchWidth: PhysicalLength(parsing: "1cm"), dpi: dpi)
            let error = #expect(throws: PrintError.self) { try PrintSheet.render(artwork, spec: spec) }
            guard case .patchTooSmall(_, _, let height?)? = error else {
                Issue.record("expected patchTooSmall with a height, got \(String(describing: error))")
                continue
            }
            #expect(abs(height - 0.15625) < 1e-9)
            #expect(error?.description.contains("tall") == true)
        }
    }

    @Test func checkedResizeThrowsWhereResizeWouldTrap() throws {
        let image = Image(width: 4, height: 4, channels: 3, fill: 0.5)
        for (w, h) in [(0, 4), (4, 0), (-1, 4), (Image.maxSide + 1, 4)] {
            #expect(throws: ImagingError.self) { try image.checkedResized(width: w, height: h) }
        }
        #expect(try image.checkedResized(width: 7, height: 3) == image.resized(width: 7, height: 3))
    }
}

@Suite struct OptionTextTests {
    @Test(arguments: ["71.9", "300.0", "nan", "inf", "1e9", "", "300dpi", "99999999999999999999"])
    func dpiThatIsNotAWholeNumberSaysSo(text: String) {
        let error = #expect(throws: PrintError.unreadableDPI(text)) { try PrintSpec.parseDPI(text) }
        let message = error?.description ?? ""
        #expect(message.contains("--dpi") && message.contains("whole number") && message.contains("72")
                && message.contains("1200"), "\(message)")
    }

    @Test func dpiParsesWholeNumbersInRange() throws {
        #expect(try PrintSpec.parseDPI("300") == 300)
        #expect(try PrintSpec.parseDPI(" 72 ") == 72)
        #expect(throws: PrintError.badDPI(71)) { try PrintSpec.parseDPI("71") }
        #expect(throws: PrintError.badDPI(1_000_000_000)) { try PrintSpec.parseDPI("1000000000") }
    }

    @Test(arguments: ["1e30mm", "1E3 cm", "2e-1in", "5e+1mm"])
    func sizeWithAnExponentSaysSo(text: String) {
        let error = #expect(throws: PrintError.self) { try PhysicalLength(parsing: text) }
        let message = error?.description ?? ""
        #expect(message.contains("--size") && message.contains("exponent") && !message.contains("unknown unit"), "\(message)")
    }

    @Test func outputMustBeAPNGAndTheMessageSaysOnlyThat() throws {
        for path in ["p.jpg", "sheet", ".png", "/tmp/a.png.txt"] {
            let error = #expect(throws: PrintError.outputNotPNG(path: path)) { try PrintOutputFiles(sheet: path) }
            let message = error?.description ?? ""
            #expect(message.contains(".png") && !message.contains("folder"), "\(message)")
        }
        let files = try PrintOutputFiles(sheet: "out/Sheet.PNG")
        #expect(files.all == ["out/Sheet.PNG", "out/Sheet_patch.png", "out/Sheet.json"])
        // write(to:) refuses the same way.
        let printed = try PrintSheet.render(syntheticArtwork(), spec: PrintSpec(patchWidth: PhysicalLength(parsing: "5cm"), dpi: 72))
        #expect(throws: PrintError.outputNotPNG(path: "/tmp/not-a-png.jpg")) { try printed.write(to: "/tmp/not-a-png.jpg") }
    }
}

/// The messages' wording for sizes (second sweep): never rounded up to the limit they break, in
/// the user's unit, and no advice to switch to the paper already in use.
@Suite struct SizeMessageTests {
    @Test func justUnderTheMinimumIsNotShownAsTheMinimumThroughTheSpec() throws {
        let error = #expect(throws: PrintError.self) { try PrintSpec(patchWidth: PhysicalLength(parsing: "4.999mm"), dpi: 300) }
        let message = error?.description ?? ""
        #expect(message.contains("--size 4.999 mm") && message.contains("4.99 mm wide"), "\(message)")
    }

    @Test func justUnderTheMinimumIsNotShownAsTheMinimum() {
        let message = PrintError.patchTooSmall(size: "0.19685in", widthMillimetres: 4.99999, heightMillimetres: nil).description
        #expect(message.contains("4.99 mm") && !message.contains("5.0 mm"), "\(message)")
    }

    @Test func tooLargeAnswersInTheUnitAskedAndDoesNotSuggestThePaperInUse() {
        let inches = PrintError.patchTooLarge(size: "8 in", paper: "Letter (8.5 × 11 in)", largestMillimetres: 182).description
        #expect(inches.contains("a patch of 8 in") && inches.contains("7.16 in"), "\(inches)")
        let onA3 = PrintError.patchTooLarge(size: "28 cm", paper: "A3 (297 × 420 mm)", largestMillimetres: 263.9).description
        #expect(!onA3.contains("--paper a3") && onA3.contains("26.3 cm") && onA3.contains("--paper fit"), "\(onA3)")
        let onA4 = PrintError.patchTooLarge(size: "25 cm", paper: "A4 (210 × 297 mm)", largestMillimetres: 176).description
        #expect(onA4.contains("--paper a3"), "\(onA4)")
    }

    @Test func aWriteFailureGivesItsAdviceOnce() {
        let message = PrintError.writeFailed(path: "x.png", reason: "x.png: could not write the PNG. Check that the folder exists").description
        #expect(message.components(separatedBy: "Check that").count == 2, "\(message)")
    }
}
