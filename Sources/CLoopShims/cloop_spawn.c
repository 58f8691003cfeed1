// posix_spawn needs _GNU_SOURCE for POSIX_SPAWN_SETSID, addchdir_np and addclosefrom_np.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cloop_spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static int add_actions(posix_spawn_file_actions_t *actions, const cloop_spawn_request *request) {
    int rc;
    for (int target = 0; target < 3; target++) {
        int source = request->stdio[target];
        if (source == -1) continue;
        if (source == -2) source = 1;
        // dup2 onto itself clears FD_CLOEXEC in the child (glibc >= 2.29), so an
        // inherited descriptor the parent marked close-on-exec still reaches the child.
        if ((rc = posix_spawn_file_actions_adddup2(actions, source, target)) != 0) return rc;
    }
    int next = 3;
    for (int i = 0; i < request->keep_count; i++) {
        int fd = request->keep[i];
        for (; next < fd; next++) {
            if ((rc = posix_spawn_file_actions_addclose(actions, next)) != 0) return rc;
        }
        if ((rc = posix_spawn_file_actions_adddup2(actions, fd, fd)) != 0) return rc;
        next = fd + 1;
    }
    if ((rc = posix_spawn_file_actions_addclosefrom_np(actions, next)) != 0) return rc;
    if (request->cwd != NULL) {
        if ((rc = posix_spawn_file_actions_addchdir_np(actions, request->cwd)) != 0) return rc;
    }
    return 0;
}

static int set_attributes(posix_spawnattr_t *attributes, const cloop_spawn_request *request) {
    int rc;
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if ((rc = posix_spawnattr_setsigdefault(attributes, &all)) != 0) return rc;
    if ((rc = posix_spawnattr_setsigmask(attributes, &none)) != 0) return rc;
    if (request->new_session) flags |= POSIX_SPAWN_SETSID;
    if (request->process_group >= 0) {
        flags |= POSIX_SPAWN_SETPGROUP;
        if ((rc = posix_spawnattr_setpgroup(attributes, request->process_group)) != 0) return rc;
    }
    return posix_spawnattr_setflags(attributes, flags);
}

int cloop_spawn(const cloop_spawn_request *request, pid_t *pid) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attributes);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return rc;
    }
    rc = add_actions(&actions, request);
    if (rc == 0) rc = set_attributes(&attributes, request);
    if (rc == 0) {
        char *const *envp = request->envp != NULL ? request->envp : environ;
        rc = posix_spawn(pid, request->path, &actions, &attributes, request->argv, envp);
    }
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int cloop_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int cloop_pidfd_send_signal(int pidfd, int signo) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

int cloop_reap(int pidfd, pid_t pid, int block, int *status) {
    siginfo_t info;
    int options = WEXITED | (block ? 0 : WNOHANG);
    int rc;
    do {
        info.si_pid = 0;
        rc = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, options)
                        : waitid(P_PID, (id_t)pid, &info, options);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return -1;
    if (info.si_pid == 0) return 0;
    *status = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
    return 1;
}

int cloop_wait_exited_no_reap(pid_t pid) {
    siginfo_t info;
    int rc;
    do {
        rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
    } while (rc != 0 && errno == EINTR);
    return rc;
}
