// The one function that writes a whole output file: temp file in the same folder, fsync, rename
// over the target (after keeping the old file as a backup when asked), fsync of the folder.
// Not a streaming API: every output RobustPatch writes (PNGs, JSON, CSV, HTML) fits in memory.
#define _GNU_SOURCE
#include "CImageShims.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// MARK: - Injected failures (tests only)

// ROBUSTPATCH_FAIL_WRITES_AFTER=N[:ENOSPC|EROFS|EACCES|EIO]: the first N writes succeed, every
// later one fails half-way through its temporary file with that errno (ENOSPC when not given),
// as a disk that fills up would. Read once per process; tests set it for a subprocess.
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static long fault_after = -1;  // -1: no injected failures
static int fault_errno = ENOSPC;
static atomic_long writes_started;

static void read_fault_setting(void) {
    const char *s = getenv("ROBUSTPATCH_FAIL_WRITES_AFTER");
    if (!s || !*s) return;
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (end == s || n < 0) return;
    fault_after = n;
    if (*end == ':') {
        const char *name = end + 1;
        if (strcmp(name, "EROFS") == 0) fault_errno = EROFS;
        else if (strcmp(name, "EACCES") == 0) fault_errno = EACCES;
        else if (strcmp(name, "EIO") == 0) fault_errno = EIO;
    }
}

/// 0, or the errno this write must fail with.
static int injected_failure(void) {
    pthread_once(&fault_once, read_fault_setting);
    long n = atomic_fetch_add(&writes_started, 1);
    return fault_after >= 0 && n >= fault_after ? fault_errno : 0;
}

// MARK: - Writing

static int write_all(int fd, const uint8_t *data, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : EIO;
        }
        done += (size_t)n;
    }
    return 0;
}

/// The folder holding `path` ("." for a bare name), malloc'd.
static char *folder_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return NULL;
    char *dir = strdup(dirname(copy));
    free(copy);
    return dir;
}

/// fsync of a folder, so a rename in it survives a power cut. Best effort: some file systems
/// refuse fsync on a folder, and the rename itself has already happened.
static void sync_folder(const char *path) {
    char *dir = folder_of(path);
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static int fail(int err, const char *what, char *msg, size_t msg_cap) {
    if (msg_cap > 0) snprintf(msg, msg_cap, "%s%s%s", what, *what ? ": " : "", strerror(err));
    return err;
}

/// Makes `backup` another name of the file at `path` (a hard link, so no copy and no space);
/// a backup of that name is replaced atomically. ENOENT (no file at `path` yet) is success.
static int keep_backup(const char *path, const char *backup) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : errno;
    size_t len = strlen(backup) + 16;
    char *tmp = malloc(len);
    if (!tmp) return ENOMEM;
    // A fresh name for the link, then a rename over the old backup: never a moment without one.
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, len, "%s.tmp-%06d", backup, (int)((getpid() + attempt * 7919) % 1000000));
        if (link(path, tmp) == 0) {
            int err = rename(tmp, backup) == 0 ? 0 : errno;
            if (err) unlink(tmp);
            free(tmp);
            return err;
        }
        if (errno != EEXIST) break;
    }
    int err = errno;
    free(tmp);
    // A file system without hard links: move the file itself; `path` is missing only until
    // the caller's rename puts the new file there.
    if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EMLINK || err == EXDEV)
        return rename(path, backup) == 0 ? 0 : errno;
    return err;
}

int rp_write_file_atomic(const char *path, const uint8_t *data, size_t size,
                         const char *backup_path, char *msg, size_t msg_cap) {
    if (msg_cap > 0) msg[0] = '\0';
    int injected = injected_failure();
    size_t path_len = strlen(path);
    char *tmp = malloc(path_len + 16);
    if (!tmp) return fail(ENOMEM, "", msg, msg_cap);
    snprintf(tmp, path_len + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return fail(err, "cannot create a file in its folder", msg, msg_cap);
    }
    (void)fchmod(fd, 0644);  // mkstemp makes 0600; outputs are not secrets
    int err = 0;
    if (injected) {
        (void)write_all(fd, data, size / 2);  // a disk that fills up mid-file
        err = injected;
    } else {
        err = write_all(fd, data, size);
    }
    if (err == 0 && fsync(fd) != 0) err = errno ? errno : EIO;
    if (close(fd) != 0 && err == 0) err = errno ? errno : EIO;
    const char *what = "";
    if (err == 0 && backup_path) {
        err = keep_backup(path, backup_path);
        if (err) what = "cannot keep the previous file as a backup";
    }
    if (err == 0 && rename(tmp, path) != 0) err = errno;
    if (err != 0) {
        unlink(tmp);
        free(tmp);
        return fail(err, what, msg, msg_cap);
    }
    free(tmp);
    sync_folder(path);
    return 0;
}

int rp_check_writable_folder(const char *folder, char *msg, size_t msg_cap) {
    if (msg_cap > 0) msg[0] = '\0';
    size_t len = strlen(folder) + 32;
    char *tmp = malloc(len);
    if (!tmp) return fail(ENOMEM, "", msg, msg_cap);
    snprintf(tmp, len, "%s/.robustpatch-probe-XXXXXX", folder);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return fail(err, "", msg, msg_cap);
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}
