// libpng decode and encode, both in memory, behind setjmp (files: file_io.c, atomic_write.c).
// Not an image API: no colour management, no gamma; 8/16-bit RGB(A) out, 8-bit RGB(A) in.
#define _GNU_SOURCE
#include "CImageShims.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// State shared with the callbacks. Reached through a volatile pointer after longjmp, so the
// compiler cannot hand back a stale register copy.
typedef struct {
    char *msg;
    size_t msg_cap;
    const uint8_t *data;
    size_t size;
    size_t pos;
    int truncated;     // the read callback ran out of data
    int image_done;    // every row was decoded; later errors (trailing chunks) are forgiven
} png_ctx;

static void on_png_error(png_structp png, png_const_charp message) {
    png_ctx *ctx = png_get_error_ptr(png);
    if (ctx->msg_cap > 0 && !(ctx->truncated && ctx->msg[0] != '\0'))
        snprintf(ctx->msg, ctx->msg_cap, "%s", message);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // e.g. "iCCP: known incorrect sRGB profile": harmless, and nobody to tell
}

static void read_from_memory(png_structp png, png_bytep out, size_t count) {
    png_ctx *ctx = png_get_io_ptr(png);
    if (count > ctx->size - ctx->pos) {
        ctx->truncated = 1;
        if (ctx->msg_cap > 0)
            snprintf(ctx->msg, ctx->msg_cap, "file ends after %zu bytes, in the middle of the data",
                     ctx->size);
        png_error(png, "unexpected end of file");
    }
    memcpy(out, ctx->data + ctx->pos, count);
    ctx->pos += count;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

rp_status rp_png_decode(const uint8_t *data, size_t size, int header_only, int32_t max_side,
                        int64_t max_pixels, rp_image *out, char *msg, size_t msg_cap) {
    memset(out, 0, sizeof *out);
    if (msg_cap > 0) msg[0] = '\0';
    png_ctx ctx_storage = {msg, msg_cap, data, size, 0, 0, 0};
    volatile png_ctx *ctx = &ctx_storage;

    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx_storage, on_png_error, on_png_warning);
    if (!png) {
        if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory");
        return RP_ERR_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory");
        return RP_ERR_NO_MEMORY;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;

    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (ctx->image_done) {  // e.g. missing IEND or a bad CRC after the pixels: keep them
            out->pixels = pixels;
            if (msg_cap > 0) msg[0] = '\0';
            return RP_OK;
        }
        free(pixels);
        out->pixels = NULL;
        return ctx->truncated ? RP_ERR_TRUNCATED : RP_ERR_CORRUPT;
    }

    png_set_read_fn(png, &ctx_storage, read_from_memory);
    // Our own limits below give a clearer message than libpng's default 1,000,000-pixel cap.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    out->width = (int32_t)width;
    out->height = (int32_t)height;

    png_uint_32 res_x = 0, res_y = 0;
    int unit = 0;
    if (png_get_pHYs(png, info, &res_x, &res_y, &unit) && unit == PNG_RESOLUTION_METER) {
        out->dpi_x = res_x * 0.0254;
        out->dpi_y = res_y * 0.0254;
    }
    if ((int64_t)width > max_side || (int64_t)height > max_side ||
        (int64_t)width * (int64_t)height > max_pixels) {
        if (msg_cap > 0) snprintf(msg, msg_cap, "%u x %u pixels", width, height);
        png_destroy_read_struct(&png, &info, NULL);
        return RP_ERR_TOO_LARGE;
    }

    if (!header_only) {
        /* Deflate compresses at most 1032:1, so the file's bytes bound the pixel data it can
           hold: a tiny file claiming a huge image is refused before its buffer is allocated
           (the fuzzer spent most of its time allocating gigabytes for 100-byte files). */
        int file_channels = color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                          : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
        uint64_t row_bits = (uint64_t)width * (uint64_t)file_channels * (uint64_t)bit_depth;
        uint64_t raw_bytes = (uint64_t)height * ((row_bits + 7) / 8);
        if (raw_bytes > (uint64_t)size * 1032u + 65536u) {
            if (msg_cap > 0)
                snprintf(msg, msg_cap, "%u x %u pixels need at least %llu bytes of image data, more than "
                         "%zu compressed bytes can hold", width, height, (unsigned long long)raw_bytes, size);
            png_destroy_read_struct(&png, &info, NULL);
            return RP_ERR_TRUNCATED;
        }
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);  // PNG is big-endian
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    out->channels = channels;
    out->bit_depth = out_depth;
    if ((channels != 3 && channels != 4) || (out_depth != 8 && out_depth != 16)) {
        if (msg_cap > 0)
            snprintf(msg, msg_cap, "unexpected layout after expansion: %d channels, %d bits",
                     channels, out_depth);
        png_destroy_read_struct(&png, &info, NULL);
        return RP_ERR_UNSUPPORTED;
    }
    if (header_only) {
        png_destroy_read_struct(&png, &info, NULL);
        return RP_OK;
    }

    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes != (size_t)width * (size_t)channels * (size_t)(out_depth / 8)) {
        if (msg_cap > 0) snprintf(msg, msg_cap, "unexpected row size %zu", row_bytes);
        png_destroy_read_struct(&png, &info, NULL);
        return RP_ERR_UNSUPPORTED;
    }
    pixels = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory for %u x %u pixels", width, height);
        return RP_ERR_NO_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    ctx->image_done = 1;
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->pixels = pixels;
    return RP_OK;
}

// MARK: - Encoding

typedef struct {
    uint8_t *bytes;
    size_t size;
    size_t cap;
    int out_of_memory;
} png_buffer;

static void write_to_buffer(png_structp png, png_bytep bytes, size_t count) {
    png_buffer *b = png_get_io_ptr(png);
    if (count > b->cap - b->size) {
        size_t cap = b->cap ? b->cap : 4096;
        while (count > cap - b->size) cap *= 2;
        uint8_t *grown = realloc(b->bytes, cap);
        if (!grown) {
            b->out_of_memory = 1;
            png_error(png, "out of memory");
        }
        b->bytes = grown;
        b->cap = cap;
    }
    memcpy(b->bytes + b->size, bytes, count);
    b->size += count;
}

static void flush_buffer(png_structp png) { (void)png; }

rp_status rp_png_encode(const uint8_t *pixels, int32_t width, int32_t height, int32_t channels,
                        uint32_t pixels_per_metre, uint8_t **out, size_t *out_size, char *msg,
                        size_t msg_cap) {
    *out = NULL;
    *out_size = 0;
    if (msg_cap > 0) msg[0] = '\0';
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4)) {
        if (msg_cap > 0)
            snprintf(msg, msg_cap, "cannot write %d x %d pixels with %d channels", width, height,
                     channels);
        return RP_ERR_UNSUPPORTED;
    }
    png_ctx ctx_storage = {msg, msg_cap, NULL, 0, 0, 0, 0};
    png_buffer buffer_storage = {NULL, 0, 0, 0};
    volatile png_buffer *buffer = &buffer_storage;
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx_storage, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory");
        return RP_ERR_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(buffer->bytes);
        return buffer->out_of_memory ? RP_ERR_NO_MEMORY : RP_ERR_IO;
    }
    png_set_write_fn(png, &buffer_storage, write_to_buffer, flush_buffer);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pixels_per_metre > 0)
        png_set_pHYs(png, info, pixels_per_metre, pixels_per_metre, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (int32_t y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = buffer_storage.bytes;
    *out_size = buffer_storage.size;
    return RP_OK;
}
