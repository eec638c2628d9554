// Interrupt: Ctrl-C (SIGINT) and SIGTERM set a flag that long loops poll, so they can save a
// checkpoint and exit cleanly instead of dying mid-write.
import Foundation

enum Interrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in Interrupt.flag = 1 }
        signal(SIGTERM) { _ in Interrupt.flag = 1 }
        // A parent that launched us from a thread with these signals blocked (Dispatch worker
        // threads block them) passes that mask on: unblock them, or Ctrl-C would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
