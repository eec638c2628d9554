// Interrupt: Ctrl-C (SIGINT) and SIGTERM set a flag that long loops poll, so they can save a
// checkpoint and exit cleanly instead of dying mid-write.
import Foundation

enum Interrupt {
    /// The signal that arrived (SIGINT or SIGTERM), 0 while none has.
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    /// "SIGINT (Ctrl-C)" or "SIGTERM", for the message that says the run stopped.
    static var signalName: String { flag == SIGTERM ? "SIGTERM" : "SIGINT (Ctrl-C)" }

    /// The conventional exit status of a process stopped by the signal: 128 + its number
    /// (130 for SIGINT, 143 for SIGTERM), after the checkpoint is saved.
    static var exitStatus: Int32 { 128 + (flag == 0 ? SIGINT : flag) }

    static func install() {
        signal(SIGINT) { _ in Interrupt.flag = SIGINT }
        signal(SIGTERM) { _ in Interrupt.flag = SIGTERM }
        // A parent that launched us from a thread with these signals blocked (Dispatch worker
        // threads block them) passes that mask on: unblock them, or Ctrl-C would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
