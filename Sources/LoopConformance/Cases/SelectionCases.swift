import LoopCore

/// SEL — choosing a backend at run time through a ``BackendRegistry``: by name, by
/// the `LOOP_BACKEND` variable, or by priority; unknown, unavailable and duplicate
/// names are errors, never a silent fallback.
///
/// Every case uses a private registry (never ``BackendRegistry/shared``) holding the
/// backend under test, sometimes under extra alias names, and passes the environment
/// explicitly so the process environment plays no part.
///
/// SEL-X01: a backend's name and capabilities are written once, in its
/// ``BackendDescriptor``; the instance and its loop report the descriptor's.
enum SelectionCases {
    static let all: [ConformanceCase] = [
        ConformanceCase("SEL-01", "a registered backend is listed and chosen by name") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            let name = ctx.backend.name
            try ctx.expectEqual(registry.descriptors.map(\.name), [name], "registered names")
            try ctx.expectEqual(registry.descriptor(named: name)?.name, name, "descriptor(named:)")
            try ctx.expect(registry.descriptor(named: "sel-unregistered") == nil, "an unregistered name has no descriptor")
            let choice = try registry.choose(name: name, environment: [:])
            try ctx.expectEqual(choice.descriptor.name, name, "chosen backend")
            try ctx.expect(!choice.reason.isEmpty, "a choice says why it was made")
        },
        ConformanceCase("SEL-02", "LOOP_BACKEND picks the named backend over a higher-priority one; the reason names it") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            try registry.register(alias("sel-preferred", of: ctx.backend, priority: 1_000))
            let name = ctx.backend.name
            let choice = try registry.choose(environment: [BackendRegistry.environmentVariable: name])
            try ctx.expectEqual(choice.descriptor.name, name, "backend chosen by \(BackendRegistry.environmentVariable)")
            try ctx.expect(
                choice.reason.contains(BackendRegistry.environmentVariable),
                "the reason must name the variable, got \"\(choice.reason)\"")
        },
        ConformanceCase("SEL-03", "an unknown name is an error listing the available backends, by name and by variable") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            try registry.register(alias("sel-alias", of: ctx.backend))
            let available = [ctx.backend.name, "sel-alias"]
            let byName = try ctx.expectLoopError(.backendUnavailable, "choose(name: unknown)") {
                _ = try registry.choose(name: "sel-no-such-backend", environment: [:])
            }
            let byVariable = try ctx.expectLoopError(.backendUnavailable, "choose(LOOP_BACKEND=unknown)") {
                _ = try registry.choose(environment: [BackendRegistry.environmentVariable: "sel-no-such-backend"])
            }
            for error in [byName, byVariable] {
                try ctx.expect(error.message.contains("sel-no-such-backend"), "the message must name the request: \(error.message)")
                for name in available {
                    try ctx.expect(error.message.contains(name), "the message must list '\(name)': \(error.message)")
                }
            }
            try ctx.expect(
                byVariable.message.contains(BackendRegistry.environmentVariable),
                "the message must say the name came from the variable: \(byVariable.message)")
            try ctx.expectLoopError(.backendUnavailable, "makeLoop(name: unknown)") {
                let loop = try registry.makeLoop(name: "sel-no-such-backend", environment: [:])
                try loop.close()
            }
        },
        ConformanceCase("SEL-04", "a backend unavailable here is an error with its reason and is never made") { ctx in
            let registry = BackendRegistry()
            let makes = Recorder<String>()
            let why = "needs a kernel feature this machine lacks"
            try registry.register(ctx.backend)
            try registry.register(BackendDescriptor(
                name: "sel-missing", summary: "an unavailable backend", priority: 1_000,
                availability: { .unavailable(reason: why) },
                make: {
                    makes.record("sel-missing")
                    throw LoopError(.backendFailure, "sel-missing must never be made")
                }))
            let byName = try ctx.expectLoopError(.backendUnavailable, "choose(name: unavailable)") {
                _ = try registry.choose(name: "sel-missing", environment: [:])
            }
            let byVariable = try ctx.expectLoopError(.backendUnavailable, "choose(LOOP_BACKEND=unavailable)") {
                _ = try registry.choose(environment: [BackendRegistry.environmentVariable: "sel-missing"])
            }
            for error in [byName, byVariable] {
                try ctx.expect(error.message.contains("sel-missing"), "the message must name the backend: \(error.message)")
                try ctx.expect(error.message.contains(why), "the message must give the reason: \(error.message)")
                try ctx.expect(error.message.contains(ctx.backend.name), "the message must list the available ones: \(error.message)")
            }
            try ctx.expectLoopError(.backendUnavailable, "makeLoop(name: unavailable)") {
                let loop = try registry.makeLoop(name: "sel-missing", environment: [:])
                try loop.close()
            }
            try ctx.expectEqual(
                try registry.choose(environment: [:]).descriptor.name, ctx.backend.name,
                "with no name the unavailable backend is passed over despite its priority")
            try ctx.expectEqual(makes.count, 0, "the unavailable backend's factory calls")
        },
        ConformanceCase("SEL-05", "registering a name twice is refused and keeps the first registration") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            let name = ctx.backend.name
            let error = try ctx.expectLoopError(.duplicateBackend, "register(duplicate)") {
                try registry.register(BackendDescriptor(
                    name: name, summary: "an impostor", priority: 1_000,
                    make: { throw LoopError(.backendFailure, "the impostor must never be made") }))
            }
            try ctx.expect(error.message.contains("'\(name)'"), "the message must name the backend: \(error.message)")
            try ctx.expect(
                !registry.registerIfAbsent(alias(name, of: ctx.backend, priority: 1_000)),
                "registerIfAbsent of a registered name must report false")
            try ctx.expectEqual(registry.descriptors.count, 1, "registered backends")
            try ctx.expectEqual(registry.descriptors.first?.summary, ctx.backend.summary, "the first registration stays")
            let loop = try registry.makeLoop(name: name, environment: [:])
            loop.setExceptionHandler(ctx.recordingHandler)
            try loop.close()
        },
        ConformanceCase("SEL-06", "without LOOP_BACKEND the highest-priority available backend wins") { ctx in
            let registry = BackendRegistry()
            try registry.register(alias("sel-low", of: ctx.backend, priority: -10))
            try registry.register(alias("sel-high", of: ctx.backend, priority: 10))
            try registry.register(BackendDescriptor(
                name: "sel-broken", summary: "unavailable", priority: 100,
                availability: { .unavailable(reason: "not here") }, make: ctx.backend.make))
            try registry.register(alias("sel-mid", of: ctx.backend, priority: 5))
            let choice = try registry.choose(environment: [:])
            try ctx.expectEqual(choice.descriptor.name, "sel-high", "chosen backend")
            try ctx.expectEqual(
                registry.descriptors.map(\.name), ["sel-broken", "sel-high", "sel-mid", "sel-low"],
                "descriptors, highest priority first")
            try ctx.expectEqual(
                try registry.choose(environment: ["UNRELATED": "x"]).descriptor.name, "sel-high",
                "other variables play no part")
        },
        ConformanceCase("SEL-07", "an explicit name overrides LOOP_BACKEND") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            try registry.register(alias("sel-alias", of: ctx.backend, priority: -5))
            let variable = BackendRegistry.environmentVariable
            try ctx.expectEqual(
                try registry.choose(name: "sel-alias", environment: [variable: ctx.backend.name]).descriptor.name,
                "sel-alias", "explicit name against a valid variable")
            try ctx.expectEqual(
                try registry.choose(name: ctx.backend.name, environment: [variable: "sel-no-such-backend"]).descriptor.name,
                ctx.backend.name, "explicit name against a variable naming an unknown backend")
        },
        ConformanceCase("SEL-08", "an empty LOOP_BACKEND counts as unset") { ctx in
            let registry = BackendRegistry()
            try registry.register(alias("sel-low", of: ctx.backend, priority: 1))
            try registry.register(alias("sel-high", of: ctx.backend, priority: 2))
            let choice = try registry.choose(environment: [BackendRegistry.environmentVariable: ""])
            try ctx.expectEqual(choice.descriptor.name, "sel-high", "backend chosen with an empty variable")
            try ctx.expect(
                !choice.reason.contains("\(BackendRegistry.environmentVariable)="),
                "an empty variable must not be given as the reason: \(choice.reason)")
        },
        ConformanceCase("SEL-09", "makeLoop(name:) and makeLoop(LOOP_BACKEND) give a working loop on that backend") { ctx in
            let registry = BackendRegistry()
            try registry.register(ctx.backend)
            let name = ctx.backend.name
            for loop in [
                try registry.makeLoop(name: name, environment: [:]),
                try registry.makeLoop(environment: [BackendRegistry.environmentVariable: name]),
            ] {
                loop.setExceptionHandler(ctx.recordingHandler)
                try ctx.expectEqual(loop.backendName, name, "backendName of the made loop")
                let ran = Recorder<String>()
                try loop.callSoon {
                    ran.record("ran")
                    loop.stop()
                }
                try loop.runForever()
                try ctx.expectEqual(ran.all, ["ran"], "a callback on the made loop")
                try loop.close()
            }
        },
        ConformanceCase("SEL-10", "no available backend, or an empty name, is an error") { ctx in
            let empty = BackendRegistry()
            try ctx.expectLoopError(.backendUnavailable, "choose() on an empty registry") {
                _ = try empty.choose(environment: [:])
            }
            let onlyBroken = BackendRegistry()
            try onlyBroken.register(BackendDescriptor(
                name: "sel-broken", summary: "unavailable",
                availability: { .unavailable(reason: "not here") }, make: ctx.backend.make))
            try ctx.expectLoopError(.backendUnavailable, "choose() with only unavailable backends") {
                _ = try onlyBroken.choose(environment: [:])
            }
            try ctx.expectLoopError(.invalidArgument, "register(empty name)") {
                try empty.register(alias("", of: ctx.backend))
            }
            try ctx.expectEqual(empty.descriptors.count, 0, "backends registered after the refused one")
        },
        ConformanceCase(
            "SEL-X01", "a backend's identity is its descriptor's: the backend made from it and its loop report the same name and capabilities"
        ) { ctx in
            let backend = try ctx.backend.make()
            try ctx.expectEqual(backend.descriptor.name, ctx.backend.name, "the made backend's descriptor name")
            try ctx.expectEqual(backend.name, ctx.backend.name, "the made backend's name")
            try ctx.expectEqual(backend.descriptor.summary, ctx.backend.summary, "the made backend's summary")
            try ctx.expectEqual(backend.capabilities, ctx.backend.capabilities, "the made backend's capabilities")
            let loop = BaseEventLoop(backend: backend)
            loop.setExceptionHandler(ctx.recordingHandler)
            try ctx.expectEqual(loop.backendName, ctx.backend.name, "the loop's backendName")
            try ctx.expectEqual(loop.capabilities, ctx.backend.capabilities, "the loop's capabilities")
            try loop.close()
        },
    ]

    /// The backend under test under another name and priority.
    private static func alias(_ name: String, of backend: BackendDescriptor, priority: Int = 0) -> BackendDescriptor {
        BackendDescriptor(
            name: name, summary: "\(backend.name) as \(name)", priority: priority,
            availability: backend.availability, make: backend.make)
    }
}
