import Glibc
import HTTPParsing

/// The fuzzer's property, run on every input: the parser never crashes, and feeding
/// the bytes at once, one by one, and split where the first byte says gives the same
/// requests (body pieces merged) and the same success or failure.
enum HTTPFuzz {
    static func check(_ data: [UInt8]) {
        let whole = parse([data[...]])
        let bytewise = parse(data.indices.map { data[$0...$0] })
        let cut = data.isEmpty ? 0 : Int(data[0]) % (data.count + 1)
        let split = parse([data[..<cut], data[cut...]])
        precondition(whole == bytewise, "fed whole vs byte by byte: \(whole) vs \(bytewise)")
        precondition(whole == split, "fed whole vs split at \(cut): \(whole) vs \(split)")
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var events: [HTTPParserEvent] = []
        var failed = false
        var description: String { "\(events.count) events\(failed ? ", failed" : "")" }
    }

    static func parse(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(maxRequestLineLength: 256, maxHeaderBytes: 512, maxHeaderCount: 8, maxBodyBytes: 4096, maxChunkLineLength: 64))
        var outcome = Outcome()
        var events: [HTTPParserEvent] = []
        for piece in pieces {
            do {
                try parser.feed(piece, into: &events)
            } catch {
                outcome.failed = true
                break
            }
        }
        // Merge consecutive body pieces: how the body is cut depends on how it was fed.
        for event in events {
            if case .body(let bytes) = event, case .body(let previous)? = outcome.events.last {
                outcome.events[outcome.events.count - 1] = .body(previous + bytes)
            } else {
                outcome.events.append(event)
            }
        }
        return outcome
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    HTTPFuzz.check(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// libFuzzer's driver, started from the entry point SwiftPM gives an executable
/// (`<module>_main`), since SwiftPM, not libFuzzer, owns `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("http_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOne)
}
#else
/// Without the fuzzer: replays the files named (a corpus) through the same check.
@main
struct ReplayCorpus {
    static func main() throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { continue }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let read = fread(&chunk, 1, chunk.count, file)
                if read <= 0 { break }
                bytes += chunk[..<read]
            }
            HTTPFuzz.check(bytes)
            count += 1
        }
        print("replayed \(count) inputs")
    }
}
#endif
