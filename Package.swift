// swift-tools-version:6.0
// RobustPatch: physical-world adversarial patches with Expectation over Transformation.
import PackageDescription

// MARK: - Build flags

/// Hot kernels need AVX2/FMA to vectorise (DESIGN.md: default flags compile SIMD to scalar fmaf).
/// Package.swift runs on the host, so `#if arch` picks flags for the machine that builds.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3", "-enforce-exclusivity=unchecked"])]
let kernelCFlags: [CSetting] = [.unsafeFlags(["-O3", "-march=x86-64-v3"])]
#else
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
let kernelCFlags: [CSetting] = [.unsafeFlags(["-O3"])]
#endif

let package = Package(
    name: "RobustPatch",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "robustpatch", targets: ["robustpatch"]),
        .executable(name: "robustpatch-bench", targets: ["robustpatch-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - Untrusted text
        // Escapes and cuts text from files for error messages; the bottom of the graph (no dependencies).
        .target(name: "TextSafety"),

        // MARK: - C interop
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "CImageShims", linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),

        // MARK: - Images
        .target(name: "Imaging", dependencies: ["CImageShims", "TextSafety"], swiftSettings: kernelFlags),

        // MARK: - Engine
        // Hand-written SIMD kernels (AVX-512 GEMM), chosen at run time by CPU.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels"], swiftSettings: kernelFlags),
        .target(
            name: "Checkpoints",
            dependencies: ["TextSafety", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: kernelFlags),
        .target(
            name: "Networks",
            dependencies: ["Tensors", "Checkpoints", "TextSafety"],
            exclude: ["Resources/README.md"],
            resources: [.copy("Resources/imagenet_classes.txt")],
            swiftSettings: kernelFlags),

        // ONNX model files: the generated protobuf types (onnx.pb.swift, committed) and a checked loader.
        .target(name: "ONNX", dependencies: ["Networks", "Tensors", "TextSafety", .product(name: "SwiftProtobuf", package: "swift-protobuf")], swiftSettings: kernelFlags),

        // MARK: - Patches
        .target(name: "Transforms", dependencies: ["Meshes", "TextSafety"], swiftSettings: kernelFlags),
        .target(
            name: "Attack",
            dependencies: ["Networks", "Transforms", "Imaging", "Meshes", "TextSafety"],
            resources: [.copy("Resources/default_palette.txt")],
            swiftSettings: kernelFlags),
        .target(name: "Calibration", dependencies: ["Imaging", "Transforms", "TextSafety"], swiftSettings: kernelFlags),
        // 3D objects (issue 22): textured triangle meshes, the OBJ reader, procedural meshes.
        .target(name: "Meshes", dependencies: ["TextSafety"]),

        // MARK: - Statistics (success counts and their intervals)
        .target(name: "Statistics"),

        // MARK: - Runs and artifacts
        // One generation run (driver, run record, run folder) and one patch loader for every command.
        .target(name: "Runs", dependencies: ["Statistics", "Meshes", "Attack", "Networks", "Checkpoints", "ONNX", "Tensors", "Transforms", "Imaging", "Calibration", "Drawing", "TextSafety"], swiftSettings: kernelFlags),
        .target(name: "Evaluation", dependencies: ["Statistics", "Meshes", "Runs", "Attack", "Networks", "ONNX", "Transforms", "Imaging", "Drawing", "TextSafety"], swiftSettings: kernelFlags),

        // MARK: - Pictures and print output
        .target(
            name: "Drawing",
            dependencies: ["Imaging"],
            resources: [.copy("Resources/font8x8_basic.txt"), .copy("Resources/FONT-LICENSE.md")]),
        .target(name: "Printing", dependencies: ["Imaging", "Drawing", "Runs"]),

        // MARK: - Teaching demos
        // Softmax regression on 8x8 digits and FGSM on it (robustpatch linear-demo).
        .target(name: "LinearModel", dependencies: ["Attack", "Transforms", "Checkpoints", "Drawing", "Imaging"]),

        // MARK: - Command-line tools
        .executableTarget(
            name: "robustpatch",
            dependencies: ["Networks", "ONNX", "Imaging", "Attack", "Transforms", "Meshes", "Calibration", "Statistics", "Runs", "Evaluation", "Printing", "LinearModel", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "robustpatch-bench", dependencies: ["Networks", "ONNX", "Attack", "Transforms", "Tensors"], swiftSettings: kernelFlags),

        // MARK: - Fuzzing (Scripts/fuzz.sh)
        // Every reader of untrusted bytes by name; the binary is libFuzzer's with -DLIBFUZZER, else a replayer.
        .target(name: "FuzzTargets", dependencies: ["Attack", "Calibration", "Checkpoints", "Imaging", "Meshes", "Networks", "ONNX", "Runs", "Tensors", "Transforms"]),
        .executableTarget(name: "robustpatch-fuzz", dependencies: ["FuzzTargets"]),

        // MARK: - Tests
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Tensors", "Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CheckpointsTests", dependencies: ["Checkpoints"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Networks", "Tensors", "Imaging", "Transforms", .product(name: "SwiftProtobuf", package: "swift-protobuf")], resources: [.copy("Fixtures")]),
        .testTarget(name: "TransformsTests", dependencies: ["Transforms", "Imaging", "Meshes"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AttackTests", dependencies: ["Attack", "Runs", "Networks", "Transforms", "Imaging"]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "Attack", "Networks", "Transforms", "Imaging"]),
        .testTarget(name: "CLITests", dependencies: ["robustpatch", "Imaging"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Statistics", "Evaluation", "Runs", "Attack", "Networks", "Transforms", "Imaging", "Drawing"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DrawingTests", dependencies: ["Drawing", "Imaging"]),
        .testTarget(name: "PrintingTests", dependencies: ["Printing", "Runs", "Drawing", "Imaging"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "Imaging", "Transforms", "Attack"]),
        .testTarget(name: "MeshesTests", dependencies: ["Meshes"]),
        .testTarget(name: "TextSafetyTests", dependencies: ["TextSafety"]),
        .testTarget(name: "LinearModelTests", dependencies: ["LinearModel", "Drawing", "Imaging"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
    ]
)
