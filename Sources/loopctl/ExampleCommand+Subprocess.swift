import Glibc
import Loops

extension ExampleCommand {
    /// The child the example runs: a few lines over time, one on stderr, exit status 3.
    static let subprocessScript = "for i in 1 2 3; do echo \"line $i from pid $$\"; sleep 0.2; done; echo 'a line on stderr' >&2; exit 3"

    /// Runs a child with createSubprocessShell(), streams its output (stderr merged into
    /// stdout) line by line as it arrives, then prints its exit status.
    static func subprocess(_ loop: BaseEventLoop) throws {
        defer { try? loop.close() }
        let task = try loop.createTask { () async throws -> Int32 in
            Output.out("running: /bin/sh -c '\(subprocessScript)'\n")
            let process = try await loop.createSubprocessShell(subprocessScript, stdin: .devNull, stdout: .pipe, stderr: .stdout)
            Output.out("child pid \(process.pid)\n")
            guard let stdout = process.stdout else { return try await process.wait() }
            while true {
                let line = try await stdout.readline()
                if line.isEmpty { break }
                Output.out("child> " + String(decoding: line, as: UTF8.self))
            }
            return try await process.wait()
        }
        let status = try loop.runUntilComplete(task)
        Output.out(status < 0 ? "child killed by signal \(-status)\n" : "child exited with status \(status)\n")
    }
}
