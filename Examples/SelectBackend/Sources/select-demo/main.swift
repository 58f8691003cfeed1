import Glibc
import Loops
@_spi(Backend) import SelectBackend

// An ordinary loop program. It registers the select backend once, then asks for the
// default loop: with LOOP_BACKEND=select it runs on select(2); without it, on the
// best built-in backend. Run it with:
//
//     LOOP_BACKEND=select swift run select-demo

do {
    try SelectSelector.register()
    let loop = try newEventLoop()
    print("running on backend '\(loop.backendName)'")

    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw SystemError(errno: errno, call: "pipe") }
    defer { for fd in ends { _ = close(fd) } }

    var received = ""
    try loop.addReader(ends[0]) {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(ends[0], &buffer, buffer.count)
        if count > 0 { received += String(decoding: buffer[..<count], as: UTF8.self) }
        if received.hasSuffix("\n") {
            print("read from the pipe: \(received.dropLast())")
            loop.stop()
        }
    }
    try loop.callLater(.milliseconds(20)) {
        print("timer fired after 20 ms; writing to the pipe")
        _ = write(ends[1], "hello from select\n", 18)
    }
    try loop.runForever()
    try loop.removeReader(ends[0])
    try loop.close()
} catch {
    print("select-demo: \(error)")
    exit(1)
}
