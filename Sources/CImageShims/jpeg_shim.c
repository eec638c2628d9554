// libjpeg(-turbo) decode from memory behind setjmp, with libjpeg's exit()-ing error handler
// replaced and its data-loss warnings promoted to errors. Not an encoder; EXIF is returned raw.
#include "CImageShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr pub;  // first, so a j_common_ptr's err can be cast to this
    jmp_buf jump;
    char *msg;
    size_t msg_cap;
    int lost_data;   // 0, or the JWRN_* code of the first warning that means pixels were lost
} jpeg_ctx;

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    if (ctx->msg_cap > 0) {
        if (ctx->lost_data == JWRN_JPEG_EOF) {
            // Ran out of data inside a marker segment; what libjpeg parsed next was its padding.
            size_t used = strlen(ctx->msg);
            if (used < ctx->msg_cap) snprintf(ctx->msg + used, ctx->msg_cap - used, "; then: %s", buffer);
        } else {
            snprintf(ctx->msg, ctx->msg_cap, "%s", buffer);
        }
    }
    longjmp(ctx->jump, 1);  // instead of libjpeg's default: print and exit()
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    jpeg_ctx *ctx = (jpeg_ctx *)cinfo->err;
    cinfo->err->num_warnings++;
    int code = cinfo->err->msg_code;
    // A truncated file gives JWRN_JPEG_EOF, then libjpeg pads with an EOI and decodes grey.
    if ((code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) && ctx->lost_data == 0) {
        ctx->lost_data = code;
        char buffer[JMSG_LENGTH_MAX];
        (*cinfo->err->format_message)(cinfo, buffer);
        if (ctx->msg_cap > 0) snprintf(ctx->msg, ctx->msg_cap, "%s", buffer);
    }
}

// Converts one row of CMYK samples to RGB. Adobe's CMYK JPEGs (the common kind, and what
// Photoshop and PIL write) store the channels inverted.
static void cmyk_row_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t width, int inverted) {
    for (size_t x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
        rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

// Whether JPEG data stops inside a marker segment (its length runs past the end), walking the
// segments from SOI and skipping entropy-coded data after each SOS. libjpeg then fails with
// whatever the missing bytes make of the segment (e.g. "Bogus Huffman table definition").
static int ends_inside_segment(const uint8_t *data, size_t size) {
    size_t pos = 2;  // after SOI
    while (pos < size) {
        if (data[pos] != 0xFF) return 0;  // not at a marker: corrupt rather than cut
        while (pos < size && data[pos] == 0xFF) pos++;  // fill bytes
        if (pos >= size) return 1;
        uint8_t code = data[pos++];
        if (code == 0xD9) return 0;  // EOI: complete
        if (code == 0x01 || (code >= 0xD0 && code <= 0xD7)) continue;  // no length
        if (code < 0xC0 || code == 0xFF) return 0;  // not a marker: corrupt
        if (pos + 2 > size) return 1;
        size_t length = ((size_t)data[pos] << 8) | data[pos + 1];
        if (length < 2) return 0;
        if (pos + length > size) return 1;
        pos += length;
        if (code == 0xDA) {  // entropy-coded data runs to the next marker other than FF00 / RSTn
            while (pos + 1 < size &&
                   !(data[pos] == 0xFF && data[pos + 1] != 0x00 &&
                     !(data[pos + 1] >= 0xD0 && data[pos + 1] <= 0xD7)))
                pos++;
            if (pos + 1 >= size) return 0;  // cut inside scan data: libjpeg reports that itself
        }
    }
    return 0;
}

// A failed decode's common exit: destroys the decompressor, frees every buffer it had taken
// (NULL ones are fine) and clears `out`, so the caller sees no half-filled image.
static void discard_decode(struct jpeg_decompress_struct *cinfo, uint8_t *pixels, uint8_t *cmyk_row,
                           uint8_t *exif, uint8_t *padded, rp_image *out) {
    jpeg_destroy_decompress(cinfo);
    free(pixels);
    free(cmyk_row);
    free(exif);
    free(padded);
    memset(out, 0, sizeof *out);
}

rp_status rp_jpeg_decode(const uint8_t *data, size_t size, int header_only, int32_t max_side,
                         int64_t max_pixels, rp_image *out, char *msg, size_t msg_cap) {
    memset(out, 0, sizeof *out);
    if (msg_cap > 0) msg[0] = '\0';
    struct jpeg_decompress_struct cinfo;
    jpeg_ctx ctx_storage;
    memset(&ctx_storage, 0, sizeof ctx_storage);
    volatile jpeg_ctx *ctx = &ctx_storage;
    ctx_storage.msg = msg;
    ctx_storage.msg_cap = msg_cap;
    cinfo.err = jpeg_std_error(&ctx_storage.pub);
    ctx_storage.pub.error_exit = on_jpeg_error;
    ctx_storage.pub.emit_message = on_jpeg_message;

    uint8_t *volatile pixels = NULL;
    uint8_t *volatile cmyk_row = NULL;
    uint8_t *volatile exif = NULL;
    // A file that does not end with EOI gets one appended (on a copy). Then a file missing only
    // its EOI decodes cleanly (as in browsers), and one cut inside the image makes libjpeg hit
    // that marker mid-scan, which we report as truncation.
    const int appended_eoi = size < 2 || data[size - 2] != 0xFF || data[size - 1] != 0xD9;
    uint8_t *const padded = appended_eoi ? malloc(size + 2) : NULL;
    if (appended_eoi) {
        if (!padded) {
            if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory");
            return RP_ERR_NO_MEMORY;
        }
        memcpy(padded, data, size);
        padded[size] = 0xFF;
        padded[size + 1] = 0xD9;
    }
    const uint8_t *const input = appended_eoi ? padded : data;
    const size_t input_size = appended_eoi ? size + 2 : size;

    if (setjmp(ctx_storage.jump)) {
        int cut_in_segment = appended_eoi && ends_inside_segment(data, size);
        discard_decode(&cinfo, pixels, cmyk_row, exif, padded, out);
        if (ctx->lost_data == JWRN_JPEG_EOF) return RP_ERR_TRUNCATED;
        if (appended_eoi && (ctx->lost_data == JWRN_HIT_MARKER || cut_in_segment)) {
            // The parser ran into the EOI we appended: the file stops mid-image.
            char reason[JMSG_LENGTH_MAX + 64];
            snprintf(reason, sizeof reason, "Premature end of JPEG file (then: %s)", msg_cap > 0 ? msg : "");
            if (msg_cap > 0) snprintf(msg, msg_cap, "%s", reason);
            return RP_ERR_TRUNCATED;
        }
        return RP_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, input, (unsigned long)input_size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    if (cinfo.saw_JFIF_marker && cinfo.X_density > 0 && cinfo.Y_density > 0) {
        if (cinfo.density_unit == 1) {
            out->dpi_x = cinfo.X_density;
            out->dpi_y = cinfo.Y_density;
        } else if (cinfo.density_unit == 2) {
            out->dpi_x = cinfo.X_density * 2.54;
            out->dpi_y = cinfo.Y_density * 2.54;
        }
    }
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0) {
            size_t n = m->data_length - 6;
            exif = malloc(n);
            if (exif) {
                memcpy(exif, m->data + 6, n);
                out->exif_size = n;
            }
            break;
        }
    }
    out->exif = exif;

    out->width = (int32_t)cinfo.image_width;
    out->height = (int32_t)cinfo.image_height;
    out->channels = 3;
    out->bit_depth = 8;
    if ((int64_t)cinfo.image_width > max_side || (int64_t)cinfo.image_height > max_side ||
        (int64_t)cinfo.image_width * (int64_t)cinfo.image_height > max_pixels) {
        if (msg_cap > 0)
            snprintf(msg, msg_cap, "%u x %u pixels", cinfo.image_width, cinfo.image_height);
        jpeg_destroy_decompress(&cinfo);
        free(padded);
        return RP_ERR_TOO_LARGE;
    }

    int is_cmyk = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        is_cmyk = 1;
        break;
    default:
        if (msg_cap > 0)
            snprintf(msg, msg_cap, "colour space %d is not gray, RGB, YCbCr, CMYK or YCCK",
                     (int)cinfo.jpeg_color_space);
        jpeg_destroy_decompress(&cinfo);
        free(padded);
        return RP_ERR_UNSUPPORTED;
    }
    if (header_only) {
        jpeg_destroy_decompress(&cinfo);
        free(padded);
        return RP_OK;
    }

    jpeg_start_decompress(&cinfo);
    // A progressive file cut exactly between two scans decodes without any warning, just blurry.
    // If it also lacked its EOI, call it truncated when some coefficient bits never arrived.
    if (appended_eoi && cinfo.progressive_mode && cinfo.coef_bits && !ctx->lost_data) {
        for (int c = 0; c < cinfo.num_components && !ctx->lost_data; c++)
            for (int k = 0; k < DCTSIZE2; k++)
                if (cinfo.coef_bits[c][k] != 0) {
                    ctx->lost_data = JWRN_JPEG_EOF;
                    if (msg_cap > 0)
                        snprintf(msg, msg_cap,
                                 "Premature end of JPEG file (progressive scans missing)");
                    break;
                }
    }
    size_t width = cinfo.output_width;
    size_t height = cinfo.output_height;
    if ((int)cinfo.output_components != (is_cmyk ? 4 : 3)) {
        if (msg_cap > 0)
            snprintf(msg, msg_cap, "unexpected %d output components", cinfo.output_components);
        discard_decode(&cinfo, NULL, NULL, exif, padded, out);
        return RP_ERR_UNSUPPORTED;
    }
    pixels = malloc(width * height * 3);
    if (is_cmyk) cmyk_row = malloc(width * 4);
    if (!pixels || (is_cmyk && !cmyk_row)) {
        discard_decode(&cinfo, pixels, cmyk_row, exif, padded, out);
        if (msg_cap > 0) snprintf(msg, msg_cap, "out of memory for %zu x %zu pixels", width, height);
        return RP_ERR_NO_MEMORY;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW row = is_cmyk ? cmyk_row : pixels + y * width * 3;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
        if (is_cmyk) cmyk_row_to_rgb(cmyk_row, pixels + y * width * 3, width, cinfo.saw_Adobe_marker);
        if (ctx->lost_data) break;
    }
    int lost = ctx->lost_data;
    if (lost) {
        jpeg_abort_decompress(&cinfo);
    } else {
        jpeg_finish_decompress(&cinfo);
        lost = ctx->lost_data;
    }
    jpeg_destroy_decompress(&cinfo);
    free(cmyk_row);
    free(padded);
    if (lost) {
        free(pixels);
        free(exif);
        memset(out, 0, sizeof *out);
        if (lost == JWRN_JPEG_EOF) return RP_ERR_TRUNCATED;
        if (lost == JWRN_HIT_MARKER && appended_eoi) {
            if (msg_cap > 0) snprintf(msg, msg_cap, "Premature end of JPEG file");
            return RP_ERR_TRUNCATED;
        }
        return RP_ERR_CORRUPT;
    }
    out->pixels = pixels;
    return RP_OK;
}
