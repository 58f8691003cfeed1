import Glibc
import LoopCtlKit

/// Runs this same executable again with other arguments and collects its stdout,
/// so that each benchmark run gets a fresh process (ru_maxrss is process-wide).
enum ChildProcess {
    /// The running executable: /proc/self/exe on Linux, else argv[0].
    static var executablePath: String {
        #if os(Linux)
        if access("/proc/self/exe", X_OK) == 0 { return "/proc/self/exe" }
        #endif
        return CommandLine.arguments.first ?? "loopctl"
    }

    /// Runs the executable with `arguments`; returns its stdout. Its stderr is ours.
    /// Throws when it cannot start or exits unsuccessfully.
    static func run(_ arguments: [String]) throws -> String {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw BenchError("pipe failed: \(errorText())") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        var readEndOpen = true
        defer { if readEndOpen { close(readEnd) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        let path = executablePath
        let argv: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments.first ?? path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }

        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            throw BenchError("could not start \(path): \(String(cString: strerror(spawned)))")
        }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readEnd, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            output.append(contentsOf: chunk[0..<count])
        }
        close(readEnd)
        readEndOpen = false

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError("waitpid failed: \(errorText())") }
        }
        let text = String(decoding: output, as: UTF8.self)
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exitedNormally = status & 0x7f == 0
        let exitCode = (status >> 8) & 0xff
        guard exitedNormally, exitCode == 0 else {
            let how = exitedNormally ? "exited with status \(exitCode)" : "was killed by signal \(status & 0x7f)"
            throw BenchError("\(path) \(arguments.joined(separator: " ")) \(how)")
        }
        return text
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
