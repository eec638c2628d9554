#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need (apt libraries, the pinned
# model weights), then runs the whole suite in release mode (kernels are ~500× slower in debug).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
Scripts/setup.sh
swift test -c release --disable-xctest "$@"
