/*
 * ocr_image.c: encoded images checked before any decoder sees them (tb_ocr_image_check,
 * see ocr.h).
 *
 * Each format's check reads only the bytes it was given, allocates nothing that grows
 * with the data (PNG's inflate uses a fixed scratch buffer) and stops at the first
 * declared size over the limit, so a refusal costs no more memory than the file.  TIFF,
 * BMP and PNM, whose pixels are found by declared offsets and sizes, are checked in
 * ocr_raster.c.
 */
#include "ocr_internal.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ---- refusals ---------------------------------------------------------------------- */

int tb_ocr_too_large(tb_ocr_image_info *info, int page, uint64_t width, uint64_t height,
                     const char *what)
{
    info->page = page;
    info->width = width > UINT32_MAX ? UINT32_MAX : (uint32_t)width;
    info->height = height > UINT32_MAX ? UINT32_MAX : (uint32_t)height;
    tb_ocr_note("%s of %llux%llu pixels", what, (unsigned long long)width,
                (unsigned long long)height);
    return TB_OCR_E_TOO_LARGE;
}

int tb_ocr_damaged(const char *format, ...)
{
    char line[256];
    va_list args;

    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    tb_ocr_note("%s", line);
    return TB_OCR_E_IMAGE;
}

int tb_ocr_unsupported(const char *what)
{
    tb_ocr_note("%s", what);
    return TB_OCR_E_FORMAT;
}

int tb_ocr_size_ok(tb_ocr_image_info *info, uint64_t width, uint64_t height,
                      uint64_t max_pixels, const char *what)
{
    info->width = width > UINT32_MAX ? UINT32_MAX : (uint32_t)width;
    info->height = height > UINT32_MAX ? UINT32_MAX : (uint32_t)height;
    if (width == 0 || height == 0 || width > INT32_MAX || height > INT32_MAX)
        return tb_ocr_damaged("%s declares an impossible size (%llux%llu pixels)", what,
                              (unsigned long long)width, (unsigned long long)height);
    if (width * height > max_pixels)
        return tb_ocr_too_large(info, 0, width, height, what);
    info->total_pixels = width * height;
    return TB_OK;
}

/* ---- PNG --------------------------------------------------------------------------- */

static const uint8_t tb_png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* Bytes of filtered scanlines libpng will inflate for this image (Adam7: all passes). */
static uint64_t tb_ocr_png_raw_size(uint64_t width, uint64_t height, unsigned bits, int interlace)
{
    static const unsigned x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
    static const unsigned dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
    uint64_t total = 0;

    if (!interlace)
        return height * (1 + (width * bits + 7) / 8);
    for (int pass = 0; pass < 7; pass++) {
        uint64_t w = width > x0[pass] ? (width - x0[pass] + dx[pass] - 1) / dx[pass] : 0;
        uint64_t h = height > y0[pass] ? (height - y0[pass] + dy[pass] - 1) / dy[pass] : 0;
        if (w && h)
            total += h * (1 + (w * bits + 7) / 8);
    }
    return total;
}

/* Inflate one IDAT chunk's bytes into scratch, counting output; stop once `expected`
   bytes came out (libpng reads no further) so a deflate bomb costs nothing more. */
static int tb_ocr_png_inflate(z_stream *z, const uint8_t *in, size_t length, uint64_t *produced,
                          uint64_t expected, bool *ended)
{
    uint8_t scratch[16384];

    z->next_in = (Bytef *)in;
    z->avail_in = (uInt)length;
    while (z->avail_in > 0 && !*ended && *produced < expected) {
        int rc;
        z->next_out = scratch;
        z->avail_out = sizeof scratch;
        rc = inflate(z, Z_NO_FLUSH);
        *produced += sizeof scratch - z->avail_out;
        if (rc == Z_STREAM_END)
            *ended = true;
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return tb_ocr_damaged("damaged PNG (its compressed pixels are invalid: %s)",
                                  z->msg ? z->msg : "inflate failed");
    }
    return TB_OK;
}

static int tb_ocr_check_png(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    static const uint8_t channels_of[7] = {1, 0, 3, 1, 2, 0, 4};
    static const uint8_t depths_of[7] = {0x1f, 0, 0x18, 0x0f, 0x18, 0, 0x18}; /* 1..16 */
    uint32_t width, height;
    unsigned depth, colour, bits;
    uint64_t expected, produced = 0;
    size_t offset = 8;
    bool ended = false, in_idat = false, idat_done = false, palette = false;
    z_stream z;
    int rc;

    if (size < 8 + 25 || tb_ocr_be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0)
        return tb_ocr_damaged("truncated or damaged PNG (no IHDR chunk first)");
    width = tb_ocr_be32(data + 16);
    height = tb_ocr_be32(data + 20);
    depth = data[24];
    colour = data[25];
    if (width > 0x7fffffffu || height > 0x7fffffffu)
        return tb_ocr_damaged("damaged PNG (impossible size %ux%u)", width, height);
    rc = tb_ocr_size_ok(info, width, height, max_pixels, "PNG");
    if (rc != TB_OK)
        return rc;
    if (colour > 6 || channels_of[colour] == 0 || depth == 0 || depth > 16 ||
        (depth & (depth - 1)) != 0 || !(depths_of[colour] & depth) || data[26] != 0 ||
        data[27] != 0 || data[28] > 1)
        return tb_ocr_damaged("damaged PNG (invalid IHDR: depth %u, colour type %u)", depth,
                              colour);
    bits = depth * channels_of[colour];
    expected = tb_ocr_png_raw_size(width, height, bits, data[28]);

    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return TB_E_NOMEM;
    for (;;) {
        uint32_t length;
        const uint8_t *kind;

        if (offset > size || size - offset < 12) {
            rc = tb_ocr_damaged("truncated PNG (no IEND chunk)");
            break;
        }
        length = tb_ocr_be32(data + offset);
        kind = data + offset + 4;
        if (length > 0x7fffffffu || size - offset - 12 < length) {
            rc = tb_ocr_damaged("truncated PNG (chunk %.4s runs past the end of the data)",
                                (const char *)kind);
            break;
        }
        if (crc32(0, kind, length + 4) != tb_ocr_be32(kind + 4 + length)) {
            rc = tb_ocr_damaged("damaged PNG (bad CRC in chunk %.4s)", (const char *)kind);
            break;
        }
        if (memcmp(kind, "IDAT", 4) == 0) {
            if (idat_done || (colour == 3 && !palette)) {
                rc = tb_ocr_damaged("damaged PNG (IDAT chunks out of order)");
                break;
            }
            in_idat = true;
            rc = tb_ocr_png_inflate(&z, kind + 4, length, &produced, expected, &ended);
            if (rc != TB_OK)
                break;
        } else {
            idat_done = idat_done || in_idat;
            if (memcmp(kind, "PLTE", 4) == 0)
                palette = true;
            if (memcmp(kind, "IEND", 4) == 0) {
                rc = TB_OK;
                break;
            }
            /* An unknown critical chunk (upper-case first letter) stops libpng. */
            if (!(kind[0] & 0x20) && memcmp(kind, "PLTE", 4) != 0 &&
                memcmp(kind, "IHDR", 4) != 0) {
                rc = tb_ocr_unsupported("PNG with an unknown critical chunk");
                break;
            }
        }
        offset += 12 + (size_t)length;
    }
    inflateEnd(&z);
    if (rc == TB_OK && produced < expected)
        rc = tb_ocr_damaged("truncated PNG (its compressed pixels hold %llu of %llu bytes)",
                            (unsigned long long)produced, (unsigned long long)expected);
    return rc;
}

/* ---- JPEG -------------------------------------------------------------------------- */

/* Walk the markers: one Huffman-coded frame, at most TB_OCR_MAX_JPEG_SCANS scans, an
   end-of-image marker, and at least one bit of scan data per MCU, which any complete
   image needs.  Arithmetic coding is refused: it describes a whole image of any size in
   a few bytes, and libjpeg decodes missing data as zeros without a warning. */
static int tb_ocr_check_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels,
                         tb_ocr_image_info *info)
{
    size_t pos = 2;
    uint64_t entropy = 0;
    unsigned width = 0, height = 0, hmax = 1, vmax = 1, scans = 0;
    bool frame = false;
    uint64_t mcus;

    for (;;) {
        unsigned marker, length;

        if (pos >= size || size - pos < 2)
            return tb_ocr_damaged("truncated JPEG (no end-of-image marker)");
        if (data[pos] != 0xFF)
            return tb_ocr_damaged("damaged JPEG (no marker at byte %zu)", pos);
        marker = data[pos + 1];
        if (marker == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        pos += 2;
        if (marker == 0xD9)
            break;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
            continue;
        if (marker == 0xD8 || marker == 0x00)
            return tb_ocr_damaged("damaged JPEG (unexpected marker 0x%02X)", marker);
        if (size - pos < 2)
            return tb_ocr_damaged("truncated JPEG (no end-of-image marker)");
        length = tb_ocr_be16(data + pos);
        if (length < 2 || length > size - pos)
            return tb_ocr_damaged("truncated JPEG (segment 0x%02X runs past the end)", marker);
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC) {
            const uint8_t *seg = data + pos + 2;
            unsigned components, c;
            int rc;
            if (frame)
                return tb_ocr_damaged("damaged JPEG (two frame headers)");
            if (length < 8)
                return tb_ocr_damaged("damaged JPEG (short frame header)");
            frame = true;
            height = tb_ocr_be16(seg + 1);
            width = tb_ocr_be16(seg + 3);
            components = seg[5];
            if (height == 0)
                return tb_ocr_unsupported("JPEG whose height is given after the scan (DNL)");
            rc = tb_ocr_size_ok(info, width, height, max_pixels, "JPEG");
            if (rc != TB_OK)
                return rc;
            if (marker == 0xC9 || marker == 0xCA)
                return tb_ocr_unsupported("arithmetic-coded JPEG is not supported");
            if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2)
                return tb_ocr_unsupported("lossless or hierarchical JPEG is not supported");
            if (components == 0 || length < 8 + 3 * components)
                return tb_ocr_damaged("damaged JPEG (frame header of %u components)",
                                      components);
            for (c = 0; c < components; c++) {
                unsigned h = seg[7 + 3 * c] >> 4, v = seg[7 + 3 * c] & 15;
                if (h < 1 || h > 4 || v < 1 || v > 4)
                    return tb_ocr_damaged("damaged JPEG (sampling factors %ux%u)", h, v);
                hmax = h > hmax ? h : hmax;
                vmax = v > vmax ? v : vmax;
            }
        } else if (marker == 0xDA) {
            if (!frame)
                return tb_ocr_damaged("damaged JPEG (a scan before the frame header)");
            if (++scans > TB_OCR_MAX_JPEG_SCANS)
                return tb_ocr_damaged("JPEG with more than %d scans", TB_OCR_MAX_JPEG_SCANS);
            pos += length;
            /* Entropy-coded data runs to the next marker that is not a stuffed zero or
               a restart marker. */
            for (;;) {
                const uint8_t *ff = memchr(data + pos, 0xFF, size - pos);
                size_t next;
                if (ff == NULL || (size_t)(ff - data) + 1 >= size)
                    return tb_ocr_damaged("truncated JPEG (scan data runs to the end)");
                next = (size_t)(ff - data);
                entropy += next - pos;
                pos = next;
                if (data[pos + 1] == 0x00) {
                    entropy++;
                    pos += 2;
                } else if (data[pos + 1] >= 0xD0 && data[pos + 1] <= 0xD7) {
                    pos += 2;
                } else {
                    break;
                }
            }
            continue;
        }
        pos += length;
    }
    if (!frame || scans == 0)
        return tb_ocr_damaged("damaged JPEG (no frame header or no scan)");
    mcus = (uint64_t)((width + 8 * hmax - 1) / (8 * hmax)) * ((height + 8 * vmax - 1) / (8 * vmax));
    if (entropy * 8 < mcus)
        return tb_ocr_damaged("damaged JPEG (%llu bytes of scan data cannot hold %ux%u pixels)",
                              (unsigned long long)entropy, width, height);
    return TB_OK;
}

/* ---- GIF --------------------------------------------------------------------------- */

/* Skip data sub-blocks up to and including the zero-length terminator. */
static bool tb_ocr_gif_skip_blocks(const uint8_t *data, size_t size, size_t *pos)
{
    while (*pos < size) {
        size_t length = data[*pos];
        *pos += 1 + length;
        if (length == 0)
            return true;
    }
    return false;
}

static int tb_ocr_check_gif(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    uint64_t total = 0;
    size_t pos = 13;
    int frames = 0, rc;

    if (size < 13)
        return tb_ocr_damaged("truncated GIF (no screen descriptor)");
    if (data[10] & 0x80)
        pos += (size_t)3 << ((data[10] & 7) + 1);
    if ((uint64_t)tb_ocr_le16(data + 6) * tb_ocr_le16(data + 8) > max_pixels)
        return tb_ocr_too_large(info, 0, tb_ocr_le16(data + 6), tb_ocr_le16(data + 8), "GIF screen");
    for (;;) {
        unsigned block;
        if (pos >= size)
            return tb_ocr_damaged("truncated GIF (no trailer)");
        block = data[pos++];
        if (block == 0x3B)
            break;
        if (block == 0x21) { /* extension: label, then sub-blocks */
            pos++;
            if (!tb_ocr_gif_skip_blocks(data, size, &pos))
                return tb_ocr_damaged("truncated GIF (an extension runs past the end)");
        } else if (block == 0x2C) { /* image: descriptor, colour table, LZW sub-blocks */
            unsigned width, height;
            if (pos > size || size - pos < 10)
                return tb_ocr_damaged("truncated GIF (an image descriptor is cut)");
            width = tb_ocr_le16(data + pos + 4);
            height = tb_ocr_le16(data + pos + 6);
            if (frames == 0) {
                rc = tb_ocr_size_ok(info, width, height, max_pixels, "GIF image");
                if (rc != TB_OK)
                    return rc;
            } else if (width == 0 || height == 0) {
                return tb_ocr_damaged("damaged GIF (frame %d is empty)", frames);
            }
            /* giflib decodes every frame into memory of its own. */
            total += (uint64_t)width * height;
            if (total > max_pixels) {
                info->total_pixels = total;
                return tb_ocr_too_large(info, frames, width, height, "GIF frames together, "
                                        "the last");
            }
            if (data[pos + 8] & 0x80)
                pos += (size_t)3 << ((data[pos + 8] & 7) + 1);
            pos += 10; /* descriptor and the LZW minimum code size */
            if (pos > size || !tb_ocr_gif_skip_blocks(data, size, &pos))
                return tb_ocr_damaged("truncated GIF (image data runs past the end)");
            frames++;
        } else {
            return tb_ocr_damaged("damaged GIF (unknown block 0x%02X)", block);
        }
    }
    if (frames == 0)
        return tb_ocr_damaged("damaged GIF (no image)");
    info->total_pixels = total;
    return TB_OK;
}

/* ---- WebP -------------------------------------------------------------------------- */

static int tb_ocr_check_webp(const uint8_t *data, size_t size, uint64_t max_pixels,
                         tb_ocr_image_info *info)
{
    uint64_t end = 8 + (uint64_t)tb_ocr_le32(data + 4);
    size_t pos = 12;
    bool image = false;
    int rc;

    if (end > size)
        return tb_ocr_damaged("truncated WebP (%zu of %llu bytes)", size,
                              (unsigned long long)end);
    while (pos + 8 <= end) {
        const uint8_t *kind = data + pos, *body = data + pos + 8;
        uint32_t length = tb_ocr_le32(data + pos + 4);
        uint64_t width = 0, height = 0;
        if (length > end - pos - 8)
            return tb_ocr_damaged("truncated WebP (chunk %.4s runs past the end)",
                                  (const char *)kind);
        if (memcmp(kind, "VP8 ", 4) == 0) {
            if (length < 10 || body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a)
                return tb_ocr_damaged("damaged WebP (bad VP8 frame header)");
            width = tb_ocr_le16(body + 6) & 0x3fff;
            height = tb_ocr_le16(body + 8) & 0x3fff;
        } else if (memcmp(kind, "VP8L", 4) == 0) {
            uint32_t bits;
            if (length < 5 || body[0] != 0x2f)
                return tb_ocr_damaged("damaged WebP (bad VP8L header)");
            bits = tb_ocr_le32(body + 1);
            width = (bits & 0x3fff) + 1;
            height = ((bits >> 14) & 0x3fff) + 1;
        } else if (memcmp(kind, "VP8X", 4) == 0 && pos == 12) {
            if (length < 10)
                return tb_ocr_damaged("damaged WebP (short VP8X chunk)");
            width = 1 + (body[4] | (uint32_t)body[5] << 8 | (uint32_t)body[6] << 16);
            height = 1 + (body[7] | (uint32_t)body[8] << 8 | (uint32_t)body[9] << 16);
        } else if (memcmp(kind, "ANIM", 4) == 0 || memcmp(kind, "ANMF", 4) == 0) {
            return tb_ocr_unsupported("animated WebP is not supported");
        } else if (pos == 12) {
            return tb_ocr_damaged("damaged WebP (first chunk %.4s)", (const char *)kind);
        }
        if (width) {
            rc = tb_ocr_size_ok(info, width, height, max_pixels, "WebP");
            if (rc != TB_OK)
                return rc;
            image = image || memcmp(kind, "VP8X", 4) != 0;
        }
        pos += 8 + (size_t)length + (length & 1);
    }
    if (!image)
        return tb_ocr_damaged("damaged WebP (no image chunk)");
    return TB_OK;
}

/* ---- JPEG 2000 --------------------------------------------------------------------- */

/* A J2K codestream: its SIZ header (size, components, tiles) and the final EOC marker,
   without which OpenJPEG decodes what it has and fills the rest. */
static int tb_ocr_check_j2k(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    uint32_t x, y, x0, y0, tw, th, tx0, ty0;
    unsigned components, c;
    uint64_t tiles;
    int rc;

    if (size < 4 + 41 || tb_ocr_be16(data) != 0xFF4F || tb_ocr_be16(data + 2) != 0xFF51)
        return tb_ocr_damaged("truncated or damaged JPEG 2000 codestream (no SIZ header)");
    x = tb_ocr_be32(data + 8), y = tb_ocr_be32(data + 12), x0 = tb_ocr_be32(data + 16);
    y0 = tb_ocr_be32(data + 20), tw = tb_ocr_be32(data + 24), th = tb_ocr_be32(data + 28);
    tx0 = tb_ocr_be32(data + 32), ty0 = tb_ocr_be32(data + 36), components = tb_ocr_be16(data + 40);
    if (x <= x0 || y <= y0)
        return tb_ocr_damaged("damaged JPEG 2000 (empty image area)");
    rc = tb_ocr_size_ok(info, x - x0, y - y0, max_pixels, "JPEG 2000");
    if (rc != TB_OK)
        return rc;
    if (components < 1 || components > 4)
        return tb_ocr_unsupported("JPEG 2000 with other than 1 to 4 components");
    if (tb_ocr_be16(data + 4) != 38 + 3 * components || size < 6 + 36 + 3 * (size_t)components)
        return tb_ocr_damaged("damaged JPEG 2000 (SIZ header of the wrong length)");
    for (c = 0; c < components; c++)
        if (data[43 + 3 * c] == 0 || data[44 + 3 * c] == 0)
            return tb_ocr_damaged("damaged JPEG 2000 (component subsampling of zero)");
    if (tw == 0 || th == 0 || tx0 > x0 || ty0 > y0 || tx0 + (uint64_t)tw <= x0 ||
        ty0 + (uint64_t)th <= y0)
        return tb_ocr_damaged("damaged JPEG 2000 (impossible tiling)");
    tiles = (((uint64_t)x - tx0 + tw - 1) / tw) * (((uint64_t)y - ty0 + th - 1) / th);
    if (tiles > 65535) /* the most a codestream can number */
        return tb_ocr_damaged("damaged JPEG 2000 (%llu tiles)", (unsigned long long)tiles);
    if (tb_ocr_be16(data + size - 2) != 0xFFD9)
        return tb_ocr_damaged("truncated JPEG 2000 (no end-of-codestream marker)");
    return TB_OK;
}

static int tb_ocr_check_jp2(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    size_t pos = 0;

    while (pos < size) {
        uint64_t length, header = 8;
        if (size - pos < 8)
            return tb_ocr_damaged("truncated JPEG 2000 (a box header is cut)");
        length = tb_ocr_be32(data + pos);
        if (length == 1) {
            if (size - pos < 16)
                return tb_ocr_damaged("truncated JPEG 2000 (a box header is cut)");
            length = (uint64_t)tb_ocr_be32(data + pos + 8) << 32 | tb_ocr_be32(data + pos + 12);
            header = 16;
        } else if (length == 0) {
            length = size - pos;
        }
        if (length < header || length > size - pos)
            return tb_ocr_damaged("truncated JPEG 2000 (box %.4s runs past the end)",
                                  (const char *)data + pos + 4);
        if (memcmp(data + pos + 4, "jp2c", 4) == 0)
            return tb_ocr_check_j2k(data + pos + header, (size_t)(length - header), max_pixels,
                                info);
        pos += (size_t)length;
    }
    return tb_ocr_damaged("truncated JPEG 2000 (no codestream box)");
}

/* ---- dispatch ---------------------------------------------------------------------- */

int tb_ocr_image_check(const uint8_t *data, size_t size, uint64_t max_pixels,
                       tb_ocr_image_info *info, uint64_t *page_offsets, size_t capacity)
{
    static const uint8_t jp2[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'};
    uint8_t head[64] = {0};
    l_int32 leptonica = IFF_UNKNOWN;
    int format;

    if (info == NULL || (capacity > 0 && page_offsets == NULL))
        return TB_E_ARG;
    memset(info, 0, sizeof *info);
    info->pages = 1;
    if (data == NULL || size == 0)
        return tb_ocr_damaged("no image data (0 bytes)");
    memcpy(head, data, size < sizeof head ? size : sizeof head);
    if (memcmp(head, tb_png_signature, 8) == 0)
        format = IFF_PNG;
    else if (head[0] == 0xFF && head[1] == 0xD8)
        format = IFF_JFIF_JPEG;
    else if (memcmp(head, "II*\0", 4) == 0 || memcmp(head, "MM\0*", 4) == 0)
        format = IFF_TIFF;
    else if (memcmp(head, "II+\0", 4) == 0 || memcmp(head, "MM\0+", 4) == 0)
        return tb_ocr_unsupported("BigTIFF is not supported");
    else if (head[0] == 'B' && head[1] == 'M')
        format = IFF_BMP;
    else if (head[0] == 'P' && head[1] >= '1' && head[1] <= '7')
        format = IFF_PNM;
    else if (memcmp(head, "GIF87a", 6) == 0 || memcmp(head, "GIF89a", 6) == 0)
        format = IFF_GIF;
    else if (memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WEBP", 4) == 0)
        format = IFF_WEBP;
    else if (memcmp(head, jp2, 12) == 0 || memcmp(head, "\xff\x4f\xff\x51", 4) == 0)
        format = IFF_JP2;
    else
        return tb_ocr_unsupported("not an image format tightbind reads (PNG, JPEG, TIFF, BMP, "
                              "PNM, GIF, WebP, JPEG 2000)");
    /* pixReadMem() picks its decoder by Leptonica's own test: it must pick this one. */
    findFileFormatBuffer(head, &leptonica);
    if (!(leptonica == format || (format == IFF_TIFF && L_FORMAT_IS_TIFF(leptonica))))
        return tb_ocr_unsupported("an image format Leptonica reads differently");
    info->format = format;
    switch (format) {
    case IFF_PNG:
        return tb_ocr_check_png(data, size, max_pixels, info);
    case IFF_JFIF_JPEG:
        return tb_ocr_check_jpeg(data, size, max_pixels, info);
    case IFF_TIFF:
        return tb_ocr_check_tiff(data, size, max_pixels, info, page_offsets, capacity);
    case IFF_BMP:
        return tb_ocr_check_bmp(data, size, max_pixels, info);
    case IFF_PNM:
        return tb_ocr_check_pnm(data, size, max_pixels, info);
    case IFF_GIF:
        return tb_ocr_check_gif(data, size, max_pixels, info);
    case IFF_WEBP:
        return tb_ocr_check_webp(data, size, max_pixels, info);
    default:
        return head[0] == 0xFF ? tb_ocr_check_j2k(data, size, max_pixels, info)
                               : tb_ocr_check_jp2(data, size, max_pixels, info);
    }
}
