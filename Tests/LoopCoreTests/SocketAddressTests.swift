import Glibc
import XCTest

@testable import LoopCore

final class SocketAddressTests: XCTestCase {
    func testParsesIPv4() throws {
        let address = try SocketAddress(host: "127.0.0.1", port: 8080)
        XCTAssertEqual(address, .ipv4(.loopback, port: 8080))
        XCTAssertEqual(address.family, .inet)
        XCTAssertEqual(address.host, "127.0.0.1")
        XCTAssertEqual(address.port, 8080)
        XCTAssertEqual(address.description, "127.0.0.1:8080")
        XCTAssertEqual(try SocketAddress(host: "10.1.2.3", port: "65535"), .ipv4(IPv4Address(0x0A01_0203), port: 65535))
    }

    func testParsesIPv6WithAndWithoutScope() throws {
        let loopback = try SocketAddress(host: "::1", port: 443)
        XCTAssertEqual(loopback, .ipv6(.loopback, port: 443, flowInfo: 0, scopeID: 0))
        XCTAssertEqual(loopback.description, "[::1]:443")
        let scoped = try SocketAddress(host: "fe80::1%2", port: 80)
        XCTAssertEqual(scoped, .ipv6(IPv6Address(high: 0xFE80_0000_0000_0000, low: 1), port: 80, flowInfo: 0, scopeID: 2))
        XCTAssertEqual(scoped.host, "fe80::1%2")
        XCTAssertEqual(scoped.description, "[fe80::1%2]:80")
        let byName = try SocketAddress(host: "fe80::1%lo", port: 80)
        XCTAssertEqual(byName.host, "fe80::1%\(if_nametoindex("lo"))")
        XCTAssertEqual(IPv6Address("2001:db8::ff00:42:8329")?.description, "2001:db8::ff00:42:8329")
    }

    func testRejectsBadHostsAndPorts() {
        for host in ["localhost", "1.2.3", "256.0.0.1", "::g", "", "fe80::1%no-such-interface"] {
            XCTAssertThrowsError(try SocketAddress(host: host, port: 80), host) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument, host)
            }
        }
        for port in [-1, 65536, 70000] {
            XCTAssertThrowsError(try SocketAddress(host: "127.0.0.1", port: port)) { error in
                XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
                XCTAssertTrue("\(error)".contains("\(port)"))
            }
        }
        XCTAssertThrowsError(try SocketAddress(host: "127.0.0.1", port: "http"))
    }

    func testUnixPathsAndAbstractNames() throws {
        let path = try SocketAddress(unixPath: "/tmp/app.sock")
        XCTAssertEqual(path, .unix(path: Array("/tmp/app.sock".utf8)))
        XCTAssertEqual(path.family, .unix)
        XCTAssertNil(path.port)
        XCTAssertEqual(path.unixPath, "/tmp/app.sock")
        XCTAssertEqual(path.description, "/tmp/app.sock")
        let abstract = try SocketAddress(unixPath: "\0name")
        XCTAssertEqual(abstract, .unix(path: [0] + Array("name".utf8)))
        XCTAssertEqual(abstract.description, "@name")
        XCTAssertEqual(SocketAddress.unix(path: []).description, "<unnamed>")
    }

    func testUnixPathLimit() throws {
        XCTAssertEqual(SocketAddress.unixPathCapacity, 108)
        XCTAssertEqual(SocketAddress.maxUnixPathLength, 107)
        XCTAssertNoThrow(try SocketAddress(unixPath: String(repeating: "a", count: 107)))
        XCTAssertThrowsError(try SocketAddress(unixPath: String(repeating: "a", count: 108))) { error in
            XCTAssertEqual((error as? LoopError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("107"))
        }
        XCTAssertNoThrow(try SocketAddress(unixPath: "\0" + String(repeating: "a", count: 107)))
        XCTAssertThrowsError(try SocketAddress(unixPath: "\0" + String(repeating: "a", count: 108)))
        XCTAssertThrowsError(try SocketAddress(unixPath: "/tmp/a\0b"))
    }

    func testRoundTripsThroughSockaddrStorage() throws {
        let addresses: [SocketAddress] = [
            try SocketAddress(host: "127.0.0.1", port: 80),
            try SocketAddress(host: "192.168.100.200", port: 0),
            try SocketAddress(host: "::1", port: 65535),
            .ipv6(IPv6Address(high: 0xFE80_0000_0000_0000, low: 0x0123_4567_89AB_CDEF), port: 1, flowInfo: 0x12345, scopeID: 3),
            try SocketAddress(unixPath: "/tmp/x.sock"),
            try SocketAddress(unixPath: String(repeating: "p", count: 107)),
            try SocketAddress(unixPath: "\0abstract"),
            try SocketAddress(unixPath: "\0" + String(repeating: "q", count: 107)),
            .unix(path: []),
        ]
        for address in addresses {
            let (storage, length) = address.storage
            XCTAssertEqual(try SocketAddress(storage, length: length), address, "\(address)")
            let again = try address.withSockAddr { try SocketAddress($0, length: $1) }
            XCTAssertEqual(again, address, "\(address)")
        }
    }

    func testStorageLayoutMatchesTheKernelStructures() throws {
        let (storage, length) = try SocketAddress(host: "127.0.0.1", port: 0x1234).storage
        XCTAssertEqual(Int(length), MemoryLayout<sockaddr_in>.size)
        let v4 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
        XCTAssertEqual(Int32(v4.sin_family), AF_INET)
        XCTAssertEqual(v4.sin_port, UInt16(0x1234).bigEndian)
        XCTAssertEqual(v4.sin_addr.s_addr, UInt32(0x7F00_0001).bigEndian)
        // A filesystem path carries its NUL; an abstract name does not.
        XCTAssertEqual(Int(try SocketAddress(unixPath: "/a").storage.length), 2 + 2 + 1)
        XCTAssertEqual(Int(try SocketAddress(unixPath: "\0a").storage.length), 2 + 2)
    }

    func testRejectsUnsupportedFamiliesAndShortLengths() {
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_PACKET)
        XCTAssertThrowsError(try SocketAddress(storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size)))
        storage.ss_family = sa_family_t(AF_INET)
        XCTAssertThrowsError(try SocketAddress(storage, length: 4))
        XCTAssertThrowsError(try SocketAddress(storage, length: 0))
    }

    func testHashableAndEquatable() throws {
        let set: Set<SocketAddress> = [
            try SocketAddress(host: "127.0.0.1", port: 1), try SocketAddress(host: "127.0.0.1", port: 1),
            try SocketAddress(host: "::1", port: 1), try SocketAddress(unixPath: "/x"),
        ]
        XCTAssertEqual(set.count, 3)
    }

    func testResolverErrorCarriesTheGaiMessage() {
        let error = ResolverError(code: EAI_NONAME, call: "getaddrinfo(\"x\", nil)")
        XCTAssertEqual(error.code, EAI_NONAME)
        XCTAssertFalse(error.message.isEmpty)
        XCTAssertTrue(error.description.contains("getaddrinfo"))
        XCTAssertThrowsError(try Resolver.getaddrinfo(host: "no-such-host.invalid", service: "80")) { error in
            XCTAssertNotNil(error as? ResolverError)
        }
    }
}
