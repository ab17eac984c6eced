/*
 * ocr_internal.h: what the OCR shim's C files share and Python never sees.
 */
#ifndef TB_OCR_INTERNAL_H
#define TB_OCR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tightbind.h"
#include "ocr.h"

/* Append a formatted line to this thread's message buffer (ocr.c), where Python reads
   the reason a call failed (tb_ocr_take_messages). */
void tb_ocr_note(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Bounds-checked big- and little-endian reads: callers check the range first. */
static inline uint32_t tb_ocr_be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static inline uint32_t tb_ocr_le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static inline uint32_t tb_ocr_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t tb_ocr_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The format checks of ocr_raster.c (those of ocr_image.c are static): each validates
   the whole structure of one format and fills *info (see tb_ocr_image_check, ocr.h). */
int tb_ocr_check_tiff(const uint8_t *data, size_t size, uint64_t max_pixels,
                      tb_ocr_image_info *info, uint64_t *page_offsets, size_t capacity);
int tb_ocr_check_bmp(const uint8_t *data, size_t size, uint64_t max_pixels,
                     tb_ocr_image_info *info);
int tb_ocr_check_pnm(const uint8_t *data, size_t size, uint64_t max_pixels,
                     tb_ocr_image_info *info);

/* Fill info's size; TB_OCR_E_IMAGE when empty, TB_OCR_E_TOO_LARGE over max_pixels. */
int tb_ocr_size_ok(tb_ocr_image_info *info, uint64_t width, uint64_t height,
                   uint64_t max_pixels, const char *what);
/* A refusal of a format or variant the shim does not read: TB_OCR_E_FORMAT. */
int tb_ocr_unsupported(const char *what);

/* A refusal for being too large: fill info with the page and its size, note the reason
   and return TB_OCR_E_TOO_LARGE. */
int tb_ocr_too_large(tb_ocr_image_info *info, int page, uint64_t width, uint64_t height,
                     const char *what);
/* A refusal for damaged or truncated data: note the reason, return TB_OCR_E_IMAGE. */
int tb_ocr_damaged(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif /* TB_OCR_INTERNAL_H */
