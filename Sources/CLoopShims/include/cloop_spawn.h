#ifndef C_LOOP_SPAWN_H
#define C_LOOP_SPAWN_H

#include <sys/types.h>

// Spawning and watching child processes (cloop_spawn.c): posix_spawn with the child's
// signal state reset and every fd it was not given closed, pidfds, and reaping one child.

/// What cloop_spawn starts.
typedef struct {
    /// The program's path (already resolved; no PATH search here).
    const char *path;
    /// NULL-terminated argument vector (argv[0] included).
    char *const *argv;
    /// NULL-terminated environment, or NULL to inherit the parent's.
    char *const *envp;
    /// Working directory, or NULL to inherit.
    const char *cwd;
    /// The child's fds 0, 1, 2: the parent fd to dup2 there, or -1 to leave it as
    /// inherited. A value of -2 for stdio[2] means "the same as the child's fd 1".
    int stdio[3];
    /// Further fds the child keeps (each > 2, ascending, no duplicates).
    const int *keep;
    int keep_count;
    /// 1: start a new session (setsid).
    int new_session;
    /// -1: no change; 0: a new process group led by the child; > 0: join that group.
    int process_group;
} cloop_spawn_request;

/// Starts the child described by `request`; stores its pid. Returns 0 or an errno value
/// (posix_spawn reports exec and chdir failures of the child here).
int cloop_spawn(const cloop_spawn_request *request, pid_t *pid);
/// pidfd_open(2): a pidfd (O_CLOEXEC) for `pid`, or -1 with errno (ENOSYS before Linux 5.3).
int cloop_pidfd_open(pid_t pid);
/// pidfd_send_signal(2): returns 0 or -1 with errno (ESRCH once the child was reaped).
int cloop_pidfd_send_signal(int pidfd, int signo);
/// Reaps the child behind `pidfd` (when pidfd >= 0, waitid P_PIDFD) or `pid` (waitid
/// P_PID) if it has exited; `block` waits for it. Returns 1 and stores the status in
/// *status (exit code N, or -N for death by signal N), 0 when it has not exited yet, or
/// -1 with errno.
int cloop_reap(int pidfd, pid_t pid, int block, int *status);
/// Blocks until child `pid` has exited without reaping it (waitid WNOWAIT). Returns 0,
/// or -1 with errno (ECHILD when it is not a child, or was reaped already).
int cloop_wait_exited_no_reap(pid_t pid);

#endif
