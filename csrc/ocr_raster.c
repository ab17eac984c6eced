/*
 * ocr_raster.c: the checks of tb_ocr_image_check (ocr.h) for formats whose pixels are
 * found through declared offsets and sizes: TIFF (every directory, every strip or tile),
 * BMP and PNM.  Each check proves that every byte a decoder will read is inside the
 * data, so a truncated file is refused here instead of decoded in part or looped over.
 */
#include "ocr_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ---- TIFF -------------------------------------------------------------------------- */

enum {
    TIFF_WIDTH, TIFF_HEIGHT, TIFF_BITS, TIFF_COMPRESSION, TIFF_STRIP_OFFSETS,
    TIFF_SAMPLES, TIFF_ROWS_PER_STRIP, TIFF_STRIP_COUNTS, TIFF_PLANAR, TIFF_TILE_WIDTH,
    TIFF_TILE_LENGTH, TIFF_TILE_OFFSETS, TIFF_TILE_COUNTS, TIFF_TAGS
};
static const uint16_t tiff_tag_numbers[TIFF_TAGS] = {256, 257, 258, 259, 273, 277, 278,
                                                     279, 284, 322, 323, 324, 325};
/* Bytes per value of each field type (0: unknown, which libtiff skips). */
static const uint8_t tiff_type_size[14] = {0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4};
/* Compressions read: none, CCITT RLE/G3/G4 (1 bit per pixel), LZW, JPEG, Deflate (both
   codes) and PackBits.  Old-style JPEG (6) and the rest are refused. */
static const uint32_t tiff_compressions[] = {1, 2, 3, 4, 5, 7, 8, 32946, 32773};

typedef struct {
    const uint8_t *data;
    size_t size;
    bool big_endian;
} tiff_file;

typedef struct {
    bool present;
    uint32_t type, count;
    size_t at; /* where the values are: in the entry or at its offset */
} tiff_entry;

static uint32_t tiff16(const tiff_file *t, size_t at)
{
    return t->big_endian ? tb_ocr_be16(t->data + at) : tb_ocr_le16(t->data + at);
}

static uint32_t tiff32(const tiff_file *t, size_t at)
{
    return t->big_endian ? tb_ocr_be32(t->data + at) : tb_ocr_le32(t->data + at);
}

/* Value `index` of a BYTE, SHORT or LONG entry; `fallback` when absent. */
static uint64_t tiff_value(const tiff_file *t, const tiff_entry *e, uint32_t index,
                           uint64_t fallback)
{
    if (!e->present || index >= e->count)
        return fallback;
    switch (e->type) {
    case 1:
        return t->data[e->at + index];
    case 3:
        return tiff16(t, e->at + 2 * (size_t)index);
    case 4:
        return tiff32(t, e->at + 4 * (size_t)index);
    default:
        return fallback;
    }
}

/* Read directory `page` at `offset` into tags[]; the offset of the next one to *next. */
static int tiff_read_directory(const tiff_file *t, size_t offset, int page,
                               tiff_entry tags[TIFF_TAGS], uint32_t *next)
{
    uint32_t entries, i;

    if (offset < 8 || offset > t->size || t->size - offset < 2)
        return tb_ocr_damaged("truncated TIFF (directory of page %d lies past the end)",
                              page + 1);
    entries = tiff16(t, offset);
    if (entries == 0 || (t->size - offset - 2) / 12 < entries ||
        t->size - offset - 2 - 12 * (size_t)entries < 4)
        return tb_ocr_damaged("truncated TIFF (directory of page %d runs past the end)",
                              page + 1);
    memset(tags, 0, sizeof(tiff_entry) * TIFF_TAGS);
    for (i = 0; i < entries; i++) {
        size_t at = offset + 2 + 12 * (size_t)i;
        uint32_t tag = tiff16(t, at), type = tiff16(t, at + 2), count = tiff32(t, at + 4);
        uint64_t bytes;
        int known = -1;

        for (int k = 0; k < TIFF_TAGS; k++)
            if (tiff_tag_numbers[k] == tag)
                known = k;
        if (type == 0 || type >= sizeof tiff_type_size) {
            if (known >= 0)
                return tb_ocr_damaged("damaged TIFF (tag %u of page %d has type %u)", tag,
                                      page + 1, type);
            continue;
        }
        bytes = (uint64_t)count * tiff_type_size[type];
        if (bytes > 4) {
            uint32_t where = tiff32(t, at + 8);
            if (where > t->size || bytes > t->size - where)
                return tb_ocr_damaged("truncated TIFF (tag %u of page %d points past the "
                                      "end)", tag, page + 1);
            at = where;
        } else {
            at += 8;
        }
        if (known >= 0) {
            if (type != 1 && type != 3 && type != 4)
                return tb_ocr_damaged("damaged TIFF (tag %u of page %d has type %u)", tag,
                                      page + 1, type);
            tags[known] = (tiff_entry){true, type, count, at};
        }
    }
    *next = tiff32(t, offset + 2 + 12 * (size_t)entries);
    return TB_OK;
}

/* ---- what a TIFF strip decodes to ------------------------------------------------ */

/* Code `width` bits wide at bit `pos`: most significant bit first, or (old-style LZW)
   least significant first. */
static unsigned lzw_code(const uint8_t *in, size_t length, uint64_t pos, unsigned width,
                         bool lsb_first)
{
    size_t byte = (size_t)(pos / 8);
    unsigned shift = (unsigned)(pos % 8);
    uint32_t word = 0;

    for (unsigned k = 0; k < 3; k++) {
        uint32_t value = byte + k < length ? in[byte + k] : 0;
        word |= lsb_first ? value << (8 * k) : value << (16 - 8 * k);
    }
    word = lsb_first ? word >> shift : word >> (24 - shift - width);
    return word & ((1u << width) - 1);
}

/* Bytes an LZW strip decodes to, as libtiff's decoder reads it (new style, or old style
   when it starts 0x00 0x01), stopping once `enough` came out; -1 when damaged. */
static int64_t lzw_size(const uint8_t *in, size_t length, uint64_t enough)
{
    uint16_t lengths[4096];
    bool old_style = length >= 2 && in[0] == 0 && (in[1] & 1);
    uint64_t pos = 0, total = 0;
    unsigned width = 9, next = 258;
    int previous = -1;

    for (unsigned k = 0; k < 256; k++)
        lengths[k] = 1;
    while (total < enough && pos + width <= (uint64_t)length * 8) {
        unsigned code = lzw_code(in, length, pos, width, old_style);
        pos += width;
        if (code == 256) { /* clear */
            next = 258;
            width = 9;
            previous = -1;
            continue;
        }
        if (code == 257) /* end of information */
            break;
        if (previous < 0) {
            if (code > 255)
                return -1;
            total++;
            previous = (int)code;
            continue;
        }
        if (code > next || (code == next && next >= 4096))
            return -1;
        total += code < next ? lengths[code] : lengths[previous] + 1u;
        if (next < 4096)
            lengths[next++] = (uint16_t)(lengths[previous] + 1);
        if (width < 12 && next >= (1u << width) - (old_style ? 0 : 1))
            width++;
        previous = (int)code;
    }
    return (int64_t)total;
}

/* Bytes a Deflate (zlib) strip inflates to, stopping at `enough`; -1 damaged, -2 no
   memory. */
static int64_t inflate_size(const uint8_t *in, size_t length, uint64_t enough)
{
    uint8_t scratch[16384];
    z_stream z;
    int64_t total = 0;

    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return -2;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)length;
    while ((uint64_t)total < enough) {
        int rc;
        z.next_out = scratch;
        z.avail_out = sizeof scratch;
        rc = inflate(&z, Z_NO_FLUSH);
        total += (int64_t)(sizeof scratch - z.avail_out);
        if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && z.avail_in == 0))
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            total = -1;
            break;
        }
    }
    inflateEnd(&z);
    return total;
}

/* Bytes a PackBits strip expands to (runs cut by the end of the data count in part). */
static int64_t packbits_size(const uint8_t *in, size_t length, uint64_t enough)
{
    uint64_t total = 0;
    size_t i = 0;

    while (i < length && total < enough) {
        int n = (int8_t)in[i++];
        if (n >= 0) {
            size_t literal = (size_t)n + 1 <= length - i ? (size_t)n + 1 : length - i;
            total += literal;
            i += literal;
        } else if (n != -128 && i < length) {
            total += (uint64_t)(1 - n);
            i++;
        }
    }
    return (int64_t)total;
}

/* Whether a compressed strip or tile of `rows` rows of `width` pixels and `line` bytes
   a row holds them; libtiff would fail part-way (or fill in) otherwise. */
static int tiff_check_contents(uint64_t compression, const uint8_t *in, size_t length,
                               uint64_t width, uint64_t rows, uint64_t line, int page,
                               uint64_t index)
{
    uint64_t need = rows * line;
    int64_t got;

    switch (compression) {
    case 1:
        got = (int64_t)length;
        break;
    case 5:
        got = lzw_size(in, length, need);
        break;
    case 8:
    case 32946:
        got = inflate_size(in, length, need);
        break;
    case 32773:
        got = packbits_size(in, length, need);
        break;
    case 7: /* a Huffman-coded JPEG needs a bit per MCU (at most 32x32 pixels) */
        if ((uint64_t)length * 8 < ((width + 31) / 32) * ((rows + 31) / 32))
            return tb_ocr_damaged("damaged TIFF (JPEG strip %llu of page %d is too short)",
                                  (unsigned long long)index + 1, page + 1);
        return TB_OK;
    default: /* CCITT: 1 bit per pixel, nothing large to allocate */
        return TB_OK;
    }
    if (got == -2)
        return TB_E_NOMEM;
    if (got < 0)
        return tb_ocr_damaged("damaged TIFF (strip %llu of page %d cannot be decompressed)",
                              (unsigned long long)index + 1, page + 1);
    if ((uint64_t)got < need)
        return tb_ocr_damaged("truncated TIFF (strip %llu of page %d holds %lld of %llu "
                              "bytes)", (unsigned long long)index + 1, page + 1,
                              (long long)got, (unsigned long long)need);
    return TB_OK;
}

/* Check one page: size, samples, compression, and every strip or tile inside the data
   (and holding all its rows when decompressed). */
static int tiff_check_page(const tiff_file *t, const tiff_entry tags[TIFF_TAGS], int page,
                           uint64_t max_pixels, tb_ocr_image_info *info, uint64_t *pixels)
{
    uint64_t width = tiff_value(t, &tags[TIFF_WIDTH], 0, 0);
    uint64_t height = tiff_value(t, &tags[TIFF_HEIGHT], 0, 0);
    uint64_t samples = tiff_value(t, &tags[TIFF_SAMPLES], 0, 1);
    uint64_t bits = tiff_value(t, &tags[TIFF_BITS], 0, 1);
    uint64_t compression = tiff_value(t, &tags[TIFF_COMPRESSION], 0, 1);
    uint64_t planar = tiff_value(t, &tags[TIFF_PLANAR], 0, 1);
    bool tiled = tags[TIFF_TILE_OFFSETS].present || tags[TIFF_TILE_WIDTH].present;
    const tiff_entry *offsets = &tags[tiled ? TIFF_TILE_OFFSETS : TIFF_STRIP_OFFSETS];
    const tiff_entry *counts = &tags[tiled ? TIFF_TILE_COUNTS : TIFF_STRIP_COUNTS];
    uint64_t chunk_width, chunk_rows, across, down, planes, chunks, line, j;
    bool known = false;
    int rc;

    if (width == 0 || height == 0)
        return tb_ocr_damaged("damaged TIFF (page %d has no size)", page + 1);
    if (width * height > max_pixels)
        return tb_ocr_too_large(info, page, width, height, "TIFF page");
    if (samples < 1 || samples > 8 || (bits != 1 && bits != 2 && bits != 4 && bits != 8 &&
                                       bits != 16))
        return tb_ocr_unsupported("TIFF with other than 1 to 8 samples of 1, 2, 4, 8 or 16 "
                                  "bits");
    for (size_t k = 0; k < sizeof tiff_compressions / sizeof *tiff_compressions; k++)
        known = known || tiff_compressions[k] == compression;
    if (!known)
        return tb_ocr_unsupported("TIFF compressed in a way tightbind does not read");
    if (planar != 1 && planar != 2)
        return tb_ocr_damaged("damaged TIFF (planar configuration %llu)",
                              (unsigned long long)planar);
    planes = planar == 2 ? samples : 1;
    if (tiled) {
        chunk_width = tiff_value(t, &tags[TIFF_TILE_WIDTH], 0, 0);
        chunk_rows = tiff_value(t, &tags[TIFF_TILE_LENGTH], 0, 0);
        /* A tile larger than the page would make libtiff allocate for nothing. */
        if (chunk_width == 0 || chunk_rows == 0 || chunk_width > ((width + 15) & ~15ull) ||
            chunk_rows > ((height + 15) & ~15ull))
            return tb_ocr_damaged("damaged TIFF (page %d has tiles of %llux%llu)", page + 1,
                                  (unsigned long long)chunk_width,
                                  (unsigned long long)chunk_rows);
        across = (width + chunk_width - 1) / chunk_width;
    } else {
        chunk_width = width;
        chunk_rows = tiff_value(t, &tags[TIFF_ROWS_PER_STRIP], 0, height);
        if (chunk_rows == 0)
            return tb_ocr_damaged("damaged TIFF (page %d has 0 rows per strip)", page + 1);
        if (chunk_rows > height)
            chunk_rows = height;
        across = 1;
    }
    down = (height + chunk_rows - 1) / chunk_rows;
    chunks = across * down * planes;
    if (!offsets->present || !counts->present || offsets->count < chunks ||
        counts->count < chunks)
        return tb_ocr_damaged("damaged TIFF (page %d lists %u of its %llu strips or tiles)",
                              page + 1, offsets->present ? offsets->count : 0,
                              (unsigned long long)chunks);
    line = (chunk_width * bits * (samples / planes) + 7) / 8;
    for (j = 0; j < chunks; j++) {
        uint64_t start = tiff_value(t, offsets, (uint32_t)j, 0);
        uint64_t length = tiff_value(t, counts, (uint32_t)j, 0);
        uint64_t row = (j % (across * down)) / across * chunk_rows;
        uint64_t rows = tiled || height - row > chunk_rows ? chunk_rows : height - row;
        if (length == 0 || start > t->size || length > t->size - start)
            return tb_ocr_damaged("truncated TIFF (strip or tile %llu of page %d runs past "
                                  "the end)", (unsigned long long)j + 1, page + 1);
        rc = tiff_check_contents(compression, t->data + start, (size_t)length, chunk_width,
                                 rows, line, page, j);
        if (rc != TB_OK)
            return rc;
    }
    *pixels = width * height;
    return TB_OK;
}

int tb_ocr_check_tiff(const uint8_t *data, size_t size, uint64_t max_pixels,
                      tb_ocr_image_info *info, uint64_t *page_offsets, size_t capacity)
{
    tiff_file t = {data, size, data[0] == 'M'};
    tiff_entry tags[TIFF_TAGS];
    uint32_t offset, next = 0;
    uint32_t *seen;
    int pages = 0, rc = TB_OK;

    if (size < 8)
        return tb_ocr_damaged("truncated TIFF (no header)");
    seen = malloc(sizeof *seen * TB_OCR_MAX_PAGES);
    if (seen == NULL)
        return TB_E_NOMEM;
    for (offset = tiff32(&t, 4); offset != 0; offset = next) {
        uint64_t pixels = 0;
        for (int k = 0; k < pages; k++)
            if (seen[k] == offset) {
                rc = tb_ocr_damaged("damaged TIFF (its directories form a loop)");
                goto done;
            }
        if (pages == TB_OCR_MAX_PAGES) {
            rc = tb_ocr_damaged("TIFF with more than %d pages", TB_OCR_MAX_PAGES);
            goto done;
        }
        rc = tiff_read_directory(&t, offset, pages, tags, &next);
        if (rc == TB_OK)
            rc = tiff_check_page(&t, tags, pages, max_pixels, info, &pixels);
        if (rc != TB_OK)
            goto done;
        if (pages == 0) {
            info->width = (uint32_t)tiff_value(&t, &tags[TIFF_WIDTH], 0, 0);
            info->height = (uint32_t)tiff_value(&t, &tags[TIFF_HEIGHT], 0, 0);
        }
        if ((size_t)pages < capacity)
            page_offsets[pages] = offset;
        seen[pages++] = offset;
        info->total_pixels += pixels;
    }
    if (pages == 0)
        rc = tb_ocr_damaged("damaged TIFF (no directory)");
done:
    free(seen);
    info->pages = pages;
    if (rc == TB_OK && (size_t)pages > capacity)
        rc = TB_OCR_FULL;
    return rc;
}

/* The directory chain alone, for reading pages one at a time (see ocr.h). */
int tb_ocr_tiff_directories(const uint8_t *data, size_t size, uint64_t *offsets,
                            size_t capacity, size_t *count)
{
    tiff_file t = {data, size, size > 0 && data[0] == 'M'};
    uint32_t *seen, offset;
    size_t pages = 0;
    int rc = TB_OK;

    *count = 0;
    if (size < 8 || !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M')))
        return tb_ocr_unsupported("not a TIFF");
    if (tiff16(&t, 2) != 42)
        return tb_ocr_unsupported("not a classic TIFF (BigTIFF is not supported)");
    seen = malloc(sizeof *seen * TB_OCR_MAX_PAGES);
    if (seen == NULL)
        return TB_E_NOMEM;
    for (offset = tiff32(&t, 4); offset != 0;) {
        uint32_t entries;
        bool loop = false;

        for (size_t k = 0; k < pages && !loop; k++)
            loop = seen[k] == offset;
        if (loop)
            break; /* every directory met so far is a page; the loop adds none */
        if (pages == TB_OCR_MAX_PAGES) {
            rc = tb_ocr_damaged("TIFF with more than %d pages", TB_OCR_MAX_PAGES);
            break;
        }
        if (pages < capacity)
            offsets[pages] = offset;
        seen[pages++] = offset;
        /* A directory that cannot be read is the last page listed: it fails alone. */
        if (offset < 8 || offset > size || size - offset < 2)
            entries = 0;
        else
            entries = tiff16(&t, offset);
        if (entries == 0 || (size - offset - 2) / 12 < entries ||
            size - offset - 2 - 12 * (size_t)entries < 4) {
            if (pages == 1) /* not even a first page: the file is damaged */
                rc = tb_ocr_damaged("truncated TIFF (its first directory runs past the end)");
            break;
        }
        offset = tiff32(&t, offset + 2 + 12 * (size_t)entries);
    }
    free(seen);
    *count = pages;
    if (rc == TB_OK && pages == 0)
        rc = tb_ocr_damaged("damaged TIFF (no directory)");
    if (rc == TB_OK && pages > capacity)
        rc = TB_OCR_FULL;
    return rc;
}

int tb_ocr_check_tiff_page(const uint8_t *data, size_t size, uint64_t offset, int page,
                           uint64_t max_pixels, tb_ocr_image_info *info)
{
    tiff_file t = {data, size, size > 0 && data[0] == 'M'};
    tiff_entry tags[TIFF_TAGS];
    uint32_t next;
    uint64_t pixels = 0;
    int rc;

    memset(info, 0, sizeof *info);
    if (size < 8 || offset > UINT32_MAX)
        return tb_ocr_damaged("truncated TIFF (directory of page %d lies past the end)",
                              page + 1);
    rc = tiff_read_directory(&t, (size_t)offset, page, tags, &next);
    if (rc == TB_OK) {
        info->width = (uint32_t)tiff_value(&t, &tags[TIFF_WIDTH], 0, 0);
        info->height = (uint32_t)tiff_value(&t, &tags[TIFF_HEIGHT], 0, 0);
        rc = tiff_check_page(&t, tags, page, max_pixels, info, &pixels);
    }
    info->format = IFF_TIFF;
    info->pages = 1;
    info->total_pixels = pixels;
    return rc;
}

/* ---- BMP --------------------------------------------------------------------------- */

int tb_ocr_check_bmp(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    uint32_t offset, header, bpp, compression;
    int64_t width, height;
    uint64_t row, need;
    int rc;

    if (size < 26)
        return tb_ocr_damaged("truncated BMP (no header)");
    offset = tb_ocr_le32(data + 10);
    header = tb_ocr_le32(data + 14);
    if (header == 12) {
        width = tb_ocr_le16(data + 18);
        height = tb_ocr_le16(data + 20);
        bpp = tb_ocr_le16(data + 24);
        compression = 0;
    } else if (header >= 40 && header <= 256 && size >= 54) {
        width = (int32_t)tb_ocr_le32(data + 18);
        height = (int32_t)tb_ocr_le32(data + 22);
        bpp = tb_ocr_le16(data + 28);
        compression = tb_ocr_le32(data + 30);
    } else {
        return tb_ocr_damaged("truncated or damaged BMP (header of %u bytes)", header);
    }
    if (width < 0)
        return tb_ocr_damaged("damaged BMP (negative width)");
    rc = tb_ocr_size_ok(info, (uint64_t)width, (uint64_t)(height < 0 ? -height : height),
                    max_pixels, "BMP");
    if (rc != TB_OK)
        return rc;
    if (bpp != 1 && bpp != 2 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return tb_ocr_damaged("damaged BMP (%u bits per pixel)", bpp);
    if (compression != 0 && compression != 3)
        return tb_ocr_unsupported("compressed BMP is not supported");
    row = ((uint64_t)width * bpp + 31) / 32 * 4;
    need = (uint64_t)offset + row * info->height;
    if (offset < 14 + header || need > size)
        return tb_ocr_damaged("truncated BMP (pixels end after %zu of %llu bytes)", size,
                              (unsigned long long)need);
    return TB_OK;
}

/* ---- PNM --------------------------------------------------------------------------- */

/* The next decimal number of a PNM header, after whitespace and # comments. */
static bool tb_ocr_pnm_number(const uint8_t *data, size_t size, size_t *pos, uint64_t *out)
{
    uint64_t value = 0;
    size_t start;

    for (;;) {
        while (*pos < size && (data[*pos] == ' ' || (data[*pos] >= 9 && data[*pos] <= 13)))
            (*pos)++;
        if (*pos < size && data[*pos] == '#') {
            while (*pos < size && data[*pos] != '\n' && data[*pos] != '\r')
                (*pos)++;
            continue;
        }
        break;
    }
    start = *pos;
    while (*pos < size && data[*pos] >= '0' && data[*pos] <= '9' && *pos - start < 10)
        value = value * 10 + (uint64_t)(data[(*pos)++] - '0');
    *out = value;
    return *pos > start && *pos < size && !(data[*pos] >= '0' && data[*pos] <= '9');
}

/* PAM (P7) header fields; returns false when ENDHDR is missing. */
static bool tb_ocr_pam_header(const uint8_t *data, size_t size, size_t *pos, uint64_t field[4])
{
    static const char *names[4] = {"WIDTH", "HEIGHT", "DEPTH", "MAXVAL"};

    while (*pos < size) {
        const uint8_t *line = data + *pos, *end = memchr(line, '\n', size - *pos);
        size_t length;
        if (end == NULL)
            return false;
        length = (size_t)(end - line);
        *pos += length + 1;
        if (length >= 6 && memcmp(line, "ENDHDR", 6) == 0)
            return true;
        for (int i = 0; i < 4; i++) {
            size_t n = strlen(names[i]), at = 0;
            if (length > n && memcmp(line, names[i], n) == 0 && (line[n] == ' ' || line[n] == '\t')) {
                at = (size_t)(line - data) + n;
                if (!tb_ocr_pnm_number(data, (size_t)(end - data) + 1, &at, &field[i]))
                    field[i] = 0;
            }
        }
    }
    return false;
}

int tb_ocr_check_pnm(const uint8_t *data, size_t size, uint64_t max_pixels,
                        tb_ocr_image_info *info)
{
    unsigned kind = data[1] - '0';
    uint64_t field[4] = {0, 0, 1, 1}; /* width, height, samples per pixel, maxval */
    uint64_t samples, need;
    size_t pos = 2;
    int rc;

    if (kind == 7) {
        if (!tb_ocr_pam_header(data, size, &pos, field))
            return tb_ocr_damaged("truncated PAM (no ENDHDR)");
    } else {
        field[2] = kind == 3 || kind == 6 ? 3 : 1;
        if (!tb_ocr_pnm_number(data, size, &pos, &field[0]) ||
            !tb_ocr_pnm_number(data, size, &pos, &field[1]) ||
            (kind != 1 && kind != 4 && !tb_ocr_pnm_number(data, size, &pos, &field[3])))
            return tb_ocr_damaged("truncated or damaged PNM header");
        pos++; /* the one whitespace character before the pixels */
    }
    rc = tb_ocr_size_ok(info, field[0], field[1], max_pixels, "PNM");
    if (rc != TB_OK)
        return rc;
    if (field[2] < 1 || field[2] > 4 || field[3] < 1 || field[3] > 65535)
        return tb_ocr_damaged("damaged PNM (%llu samples per pixel, maximum value %llu)",
                              (unsigned long long)field[2], (unsigned long long)field[3]);
    samples = field[0] * field[1] * field[2];
    if (kind == 1 || kind == 2 || kind == 3) { /* plain (ASCII) samples */
        uint64_t found = 0;
        bool in_number = false;
        for (; pos < size && found < samples; pos++) {
            uint8_t ch = data[pos];
            if (ch >= '0' && ch <= '9') {
                if (kind == 1)
                    found++;
                else if (!in_number)
                    found++, in_number = true;
            } else if (ch == ' ' || (ch >= 9 && ch <= 13)) {
                in_number = false;
            } else {
                return tb_ocr_damaged("damaged PNM (byte 0x%02X among the samples)", ch);
            }
        }
        if (found < samples)
            return tb_ocr_damaged("truncated PNM (%llu of %llu samples)",
                                  (unsigned long long)found, (unsigned long long)samples);
        return TB_OK;
    }
    need = kind == 4 ? (field[0] + 7) / 8 * field[1]
                     : samples * (field[3] > 255 ? 2 : 1);
    if (pos > size || need > size - pos)
        return tb_ocr_damaged("truncated PNM (pixels end after %zu of %llu bytes)",
                              pos > size ? 0 : size - pos, (unsigned long long)need);
    return TB_OK;
}

