import Loops

extension EchoServer {
    /// Echoes one stream connection: reads up to 64 KiB, writes it back and drains,
    /// until end of file, then closes. The connection is tracked in `connections` while
    /// this runs. A connection that fails (a reset peer) just ends.
    static func echoStream(_ reader: StreamReader, _ writer: StreamWriter, connections: EchoConnections) async throws {
        connections.add(writer) { writer.close() }
        defer { connections.remove(writer) }
        do {
            while true {
                let chunk = try await reader.read(65_536)
                if chunk.isEmpty { break }
                try writer.write(chunk)
                try await writer.drain()
            }
        } catch is SystemError {
            // The peer went away; nothing to report for an echo.
        }
        writer.close()
    }
}
