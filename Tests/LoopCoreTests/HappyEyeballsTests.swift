import XCTest

@testable import LoopCore

/// The address interleaving of Happy Eyeballs, against what asyncio's
/// `_interleave_addrinfos` gives for the same list.
final class HappyEyeballsTests: XCTestCase {
    private func infos(_ hosts: [String]) throws -> [AddressInfo] {
        try hosts.map {
            let address = try SocketAddress(host: $0, port: 1)
            return AddressInfo(family: address.family, type: .stream, proto: 6, canonicalName: "", address: address)
        }
    }

    func testFamiliesAlternateStartingWithTheFirstFamily() throws {
        let list = try infos(["::1", "::2", "1.0.0.1", "1.0.0.2", "::3"])
        XCTAssertEqual(BaseEventLoop.interleaved(list, firstFamilyCount: 1), try infos(["::1", "1.0.0.1", "::2", "1.0.0.2", "::3"]))
        XCTAssertEqual(BaseEventLoop.interleaved(list, firstFamilyCount: 2), try infos(["::1", "::2", "1.0.0.1", "::3", "1.0.0.2"]))
        XCTAssertEqual(BaseEventLoop.interleaved(list, firstFamilyCount: 3), try infos(["::1", "::2", "::3", "1.0.0.1", "1.0.0.2"]))
    }

    func testOneFamilyKeepsItsOrder() throws {
        let list = try infos(["1.0.0.3", "1.0.0.1", "1.0.0.2"])
        XCTAssertEqual(BaseEventLoop.interleaved(list, firstFamilyCount: 1), list)
        XCTAssertEqual(BaseEventLoop.interleaved([], firstFamilyCount: 1), [])
    }
}
