// CImageShims: the only code in RobustPatch that calls libpng and libjpeg. Both libraries report
// errors by longjmp, which Swift cannot catch, so every call that can fail lives here behind a
// setjmp and comes back as an `rp_status` plus the library's own message. It is not an image API:
// Swift's `Imaging` module owns formats, conversions and errors; this header leaks no library types.
#ifndef CIMAGESHIMS_H
#define CIMAGESHIMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RP_OK = 0,
    RP_ERR_NOT_FOUND = 1,     // ENOENT / ENOTDIR on a path component
    RP_ERR_PERMISSION = 2,    // EACCES / EPERM
    RP_ERR_IS_DIRECTORY = 3,  // the path names a directory
    RP_ERR_IO = 4,            // another OS error; message = strerror(errno)
    RP_ERR_CORRUPT = 5,       // the library rejected the data; message = its text
    RP_ERR_TRUNCATED = 6,     // the data ended before the image did
    RP_ERR_TOO_LARGE = 7,     // over the caller's limits; width/height are filled in
    RP_ERR_UNSUPPORTED = 8,   // valid file, but a variant we do not decode (e.g. 12-bit JPEG)
    RP_ERR_NO_MEMORY = 9,
} rp_status;

/// A decoded image. `pixels` is (height, width, channels) interleaved, row-major, no padding:
/// `uint8_t` when bit_depth is 8, native-endian `uint16_t` when 16. Free with rp_image_free.
typedef struct {
    int32_t width;
    int32_t height;
    int32_t channels;    // 3 (RGB) or 4 (RGBA)
    int32_t bit_depth;   // 8 or 16
    void *pixels;        // NULL after a header-only decode
    uint8_t *exif;       // JPEG only: APP1 "Exif" payload from the TIFF header on; NULL if none
    size_t exif_size;
    double dpi_x;        // from PNG pHYs (metre unit) or JPEG JFIF density; 0 when absent
    double dpi_y;
} rp_image;

/// Reads a whole file into a malloc'd buffer (free with rp_free). Directories are refused.
rp_status rp_read_file(const char *path, uint8_t **data, size_t *size, char *msg, size_t msg_cap);
void rp_free(void *p);

/// Decodes PNG data. Every colour type and bit depth, interlaced or not, comes out as 8- or 16-bit
/// RGB or RGBA (gray is expanded to RGB; palette and tRNS become RGB(A)); no gamma correction.
/// With header_only != 0 only width/height/channels/bit_depth/dpi are filled. Images with a side
/// over max_side or more than max_pixels pixels give RP_ERR_TOO_LARGE before any pixel is allocated.
rp_status rp_png_decode(const uint8_t *data, size_t size, int header_only, int32_t max_side,
                        int64_t max_pixels, rp_image *out, char *msg, size_t msg_cap);

/// Decodes JPEG data (baseline or progressive; gray, YCbCr, RGB, CMYK/YCCK) to 8-bit RGB.
/// Warnings that mean lost data ("Premature end of JPEG file", "premature end of data segment")
/// are errors here: libjpeg itself would fill the missing part with grey and carry on.
/// The EXIF orientation is *not* applied here; the payload is returned in `exif`.
rp_status rp_jpeg_decode(const uint8_t *data, size_t size, int header_only, int32_t max_side,
                         int64_t max_pixels, rp_image *out, char *msg, size_t msg_cap);

void rp_image_free(rp_image *image);

/// Encodes 8-bit RGB (channels 3) or RGBA (channels 4) pixels, (height, width, channels)
/// interleaved, as PNG data in a malloc'd buffer (free with rp_free). pixels_per_metre > 0 adds
/// a pHYs chunk.
rp_status rp_png_encode(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                        uint32_t pixels_per_metre, uint8_t **out, size_t *out_size, char *msg,
                        size_t msg_cap);

/// Writes `size` bytes as the file at `path`, atomically: a temporary file in the same folder
/// (`path`.tmp-XXXXXX), fsync, then a rename over `path`, so a reader sees the old file or the new
/// one, never part of one, and a failed write leaves the old file as it was and no temporary
/// file behind. With `backup_path`, the file `path` held before becomes `backup_path` (a hard
/// link made before the rename; the backup is replaced, never absent). Returns 0 or an errno,
/// with `msg` saying which step failed. Every output file of the tool goes through here, so the
/// environment variable ROBUSTPATCH_FAIL_WRITES_AFTER=N[:ERRNO] (tests) makes the writes after
/// the first N fail with ENOSPC (or EROFS, EACCES, EIO) half-way through, as a full disk would.
int rp_write_file_atomic(const char *path, const uint8_t *data, size_t size,
                         const char *backup_path, char *msg, size_t msg_cap);

/// 0 when a file can be created in `folder` (made and removed at once), else an errno.
int rp_check_writable_folder(const char *folder, char *msg, size_t msg_cap);

#ifdef __cplusplus
}
#endif

#endif
