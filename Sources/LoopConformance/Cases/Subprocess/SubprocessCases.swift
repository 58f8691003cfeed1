/// PROC — subprocesses: the catalogue's PROC-01…PROC-10 and the group's own PROC-X
/// cases, on real programs (/bin/sh, cat, python3). Every case checks, after its loop
/// closed, that the loop reaped every child it started and that this process has no
/// zombie children (read from /proc).
enum SubprocessCases {
    static let all: [ConformanceCase] =
        ProcessCatalogueCases.all + ProcessSpawnCases.all + ProcessLifecycleCases.all
        + ProcessBadInputCases.all + ProcessWatcherCases.all
}
