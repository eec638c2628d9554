#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need (apt libraries, the pinned
# model weights), then runs the whole suite in release mode (kernels are ~500× slower in debug),
# then a fuzz smoke: every reader of untrusted bytes for 3 s under libFuzzer + AddressSanitizer
# (Scripts/fuzz.sh; its sanitizer build, in .build-fuzz, is most of the smoke's time).
# Arguments go to `swift test` (e.g. --filter CheckpointsTests) and skip the fuzz smoke.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Scripts/setup.sh
swift test -c release --disable-xctest "$@"
if [ $# -eq 0 ]; then
    Scripts/fuzz.sh --seconds 3
fi
