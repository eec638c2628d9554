// Distribution and sample tests: bad input, presets, sampling determinism, JSON round-trips.
import Foundation
import Testing
import Transforms

@Suite struct TransformDistributionTests {
    @Test func presetsValidate() throws {
        for name in TransformDistribution.presetNames {
            try TransformDistribution.preset(named: name).validate()
        }
        #expect(throws: TransformError.unknownPreset(name: "nope", available: TransformDistribution.presetNames)) {
            try TransformDistribution.preset(named: "nope")
        }
    }

    @Test func badInputNamesTheField() throws {
        var d = TransformDistribution.tabletop
        d.yaw = ValueRange(.nan, 10)
        #expect(throws: TransformError.notFinite(field: "yaw.min")) { try d.validate() }
        d = .digital
        d.size = ValueRange(0.5, 0.2)
        #expect(throws: TransformError.minGreaterThanMax(field: "size", min: 0.5, max: 0.2)) { try d.validate() }
        d = .digital
        d.pitch = ValueRange(-89, 0)
        #expect(throws: TransformError.self) { try d.validate() }
        d = .digital
        d.blurSigma = ValueRange(-1, 0)
        #expect(throws: TransformError.self) { try d.validate() }
        d = .digital
        d.size = ValueRange(0, 0.3)
        #expect(throws: TransformError.self) { try d.validate() }
        d = .digital
        d.distance = ValueRange(2, 3)   // both size and distance
        #expect(throws: TransformError.self) { try d.validate() }
        d = .digital
        d.placement = .quadrilateral(points: [SIMD2(0, 0), SIMD2(1, 0), SIMD2(2, 0), SIMD2(0, 1)])
        #expect(throws: TransformError.self) { try d.validate() }
        d = .digital
        d.size = ValueRange(0.5, 1.5)   // wider than the frame
        #expect { try d.validate() } throws: { "\($0)".contains("bigger than the scene") }
        d.size = ValueRange(0.5, 5)
        #expect { try d.validate() } throws: { "\($0)".contains("bigger than the scene") }
        d.size = ValueRange(0.5, .nan)
        #expect(throws: TransformError.notFinite(field: "size.max")) { try d.validate() }
        d = .photo
        d.distance = ValueRange(0.8, 3)   // at 50° fov a patch nearer than ≈ 1.07 widths overfills the frame
        #expect(abs(TransformDistribution.photo.largestApparentSize - 1 / (2 * tan(25 * Double.pi / 180) * 2.7)) < 1e-12)
        #expect { try d.validate() } throws: { "\($0)".contains("bigger than the scene") && "\($0)".contains("at least 1.07") }
        d.distance = ValueRange(1.1, 3)
        try d.validate()
        d = .digital
        d.jpegQuality = ValueRange(0, 50)
        #expect(throws: TransformError.self) { try d.validate() }
        var s = TransformSample()
        s.gamma = .infinity
        #expect(throws: TransformError.notFinite(field: "gamma")) { try s.validate() }
    }

    @Test func decodingValidatesAndNamesTheField() throws {
        let quoted = #"{"pitch": {"min": -10, "max": "nan"}}"#
        #expect(throws: TransformError.notFinite(field: "pitch.max")) { try TransformDistribution.fromJSON(Data(quoted.utf8)) }
        let bare = "{\n  \"roll\": {\"min\": 0, \"max\": 1},\n  \"yaw\": {\"min\": NaN, \"max\": 1}\n}"
        do {
            _ = try TransformDistribution.fromJSON(Data(bare.utf8))
            Issue.record("bare NaN decoded")
        } catch let e as TransformError {
            #expect(e.description.contains("yaw"), "\(e)")
            #expect(e.description.contains("line 3"), "\(e)")
        }
        let swapped = #"{"brightness": {"min": 2, "max": 1}}"#
        #expect(throws: TransformError.minGreaterThanMax(field: "brightness", min: 2, max: 1)) {
            try TransformDistribution.fromJSON(Data(swapped.utf8))
        }
        // A misspelt key is refused (it used to be skipped, leaving roll at its default).
        do {
            _ = try TransformDistribution.fromJSON(Data(#"{"rol": {"min": -5, "max": 5}, "yaw": {"min": 0, "max": 1}}"#.utf8))
            Issue.record("a misspelt key decoded")
        } catch let e as TransformError {
            #expect(e.description.contains("unknown key 'rol'") && e.description.contains("roll"), "\(e)")
        }
        // Every key a distribution writes reads back.
        #expect(try TransformDistribution.fromJSON(TransformDistribution.photo.jsonData()) == TransformDistribution.photo)
        // Omitted fields take the identity defaults.
        let partial = try TransformDistribution.fromJSON(Data(#"{"roll": {"min": -5, "max": 5}}"#.utf8))
        var expected = TransformDistribution()
        expected.roll = .symmetric(5)
        #expect(partial == expected)
        let byDistance = try TransformDistribution.fromJSON(Data(#"{"distance": {"min": 3, "max": 4}}"#.utf8))
        #expect(byDistance.size == nil && byDistance.distance == ValueRange(3, 4))
    }

    @Test func jsonRoundTrip() throws {
        var quad = TransformDistribution.digital
        quad.placement = .quadrilateral(points: [SIMD2(0.1, 0.1), SIMD2(0.6, 0.15), SIMD2(0.55, 0.7), SIMD2(0.12, 0.6)])
        var region = TransformDistribution.tabletop
        region.placement = .region(x: ValueRange(0.2, 0.8), y: ValueRange(0.3, 0.7))
        region.jpegQuality = ValueRange(30, 90)
        for d in [TransformDistribution.digital, .tabletop, TransformDistribution(), quad, region] {
            let back = try TransformDistribution.fromJSON(try d.jsonData())
            #expect(back == d)
        }
        var rng = SplitMix64(seed: 7)
        for d in [TransformDistribution.tabletop, quad, region] {
            let s = d.sample(imageWidth: 224, imageHeight: 224, using: &rng)
            #expect(try TransformSample.fromJSON(try s.jsonData()) == s)
        }
    }

    @Test func samplingIsDeterministicAndInRange() throws {
        for d in [TransformDistribution.digital, .tabletop] {
            var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42)
            for _ in 0..<200 {
                let s = d.sample(imageWidth: 224, imageHeight: 160, using: &a)
                #expect(s == d.sample(imageWidth: 224, imageHeight: 160, using: &b))
                try s.validate()
                #expect(s.yaw >= d.yaw.min && s.yaw <= d.yaw.max)
                #expect(s.roll >= d.roll.min && s.roll <= d.roll.max)
                #expect(s.gamma >= d.gamma.min && s.gamma <= d.gamma.max)
                // fullyInside: all projected corners inside the image (up to round-off).
                for p in s.projectedCorners(sceneWidth: 224, sceneHeight: 160) {
                    #expect(p.x >= -1e-6 && p.x <= 224 + 1e-6 && p.y >= -1e-6 && p.y <= 160 + 1e-6)
                }
            }
        }
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 2)
        #expect(TransformDistribution.tabletop.sample(imageWidth: 64, imageHeight: 64, using: &a)
                != TransformDistribution.tabletop.sample(imageWidth: 64, imageHeight: 64, using: &b))
    }

    @Test func distanceConvertsToSize() throws {
        var d = TransformDistribution()
        d.size = nil
        d.distance = .fixed(4)
        var rng = SplitMix64(seed: 3)
        let s = d.sample(imageWidth: 224, imageHeight: 224, using: &rng)
        let focal = 112 / tan(25 * Double.pi / 180)
        #expect(abs(s.size - focal / (4 * 224)) < 1e-12)
    }
}
