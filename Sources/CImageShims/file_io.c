// Whole-file reading for the image decoders, with errno mapped to rp_status.
// Not a general file API: it reads everything into memory (images are small next to RAM).
#define _GNU_SOURCE
#include "CImageShims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static rp_status status_from_errno(int err) {
    switch (err) {
    case ENOENT:
    case ENOTDIR: return RP_ERR_NOT_FOUND;
    case EACCES:
    case EPERM: return RP_ERR_PERMISSION;
    case EISDIR: return RP_ERR_IS_DIRECTORY;
    case ENOMEM: return RP_ERR_NO_MEMORY;
    default: return RP_ERR_IO;
    }
}

static rp_status fail_errno(int err, char *msg, size_t msg_cap) {
    if (msg_cap > 0) snprintf(msg, msg_cap, "%s", strerror(err));
    return status_from_errno(err);
}

rp_status rp_read_file(const char *path, uint8_t **data, size_t *size, char *msg, size_t msg_cap) {
    *data = NULL;
    *size = 0;
    if (msg_cap > 0) msg[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, msg, msg_cap);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return fail_errno(err, msg, msg_cap);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return fail_errno(EISDIR, msg, msg_cap);
    }
    // st_size is exact for regular files; pipes and devices grow the buffer as they go.
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return fail_errno(ENOMEM, msg, msg_cap);
    }
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            size_t new_cap = cap * 2;
            uint8_t *grown = realloc(buf, new_cap);
            if (!grown) {
                free(buf);
                close(fd);
                return fail_errno(ENOMEM, msg, msg_cap);
            }
            buf = grown;
            cap = new_cap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            free(buf);
            close(fd);
            return fail_errno(err, msg, msg_cap);
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    *data = buf;
    *size = len;
    return RP_OK;
}

void rp_free(void *p) { free(p); }

void rp_image_free(rp_image *image) {
    if (!image) return;
    free(image->pixels);
    free(image->exif);
    image->pixels = NULL;
    image->exif = NULL;
    image->exif_size = 0;
}
