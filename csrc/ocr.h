/*
 * ocr.h: the C shim behind tightbind.ocr (Tesseract 5 C API and Leptonica).
 *
 * What the C API lacks or would make Python do per element:
 *   - tb_ocr_recognize(): recognition under Tesseract's monitor (deadline and a cancel
 *     flag another thread may set) in one call, so the GIL is released throughout.
 *   - tb_ocr_walk(): walks a recognized page the way Tesseract's TSV renderer does and
 *     writes every element of one level (text, confidence, box, block/paragraph/line/
 *     word numbers) into caller-owned arrays.
 *   - tb_ocr_layout_walk(): the same for a layout-only page iterator (boxes, block types).
 *   - Pix helpers: raw pixels in and out, one-pointer destructors for ffi.gc.
 *   - Leptonica's messages are caught in a per-thread buffer instead of going to stderr.
 * Every function returns TB_OK (0) or a negative code (TB_E_* or TB_OCR_E_*); none prints.
 */
#ifndef TB_OCR_H
#define TB_OCR_H

#include <stddef.h>
#include <stdint.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

/* cffi:begin */
/* Statuses besides TB_OK, TB_E_NOMEM and TB_E_ARG (tightbind.h). */
#define TB_OCR_FULL 1             /* output arrays too small: sizes needed are in result */
#define TB_OCR_E_FAILED (-201)    /* Tesseract or Leptonica reported failure */
#define TB_OCR_E_CANCELLED (-202) /* recognition stopped by the cancel flag */
#define TB_OCR_E_TIMEOUT (-203)   /* recognition stopped by the deadline */
#define TB_OCR_E_NO_RESULT (-204) /* no recognition result to walk */
#define TB_OCR_E_TOO_LARGE (-205) /* an image has more pixels than allowed */
#define TB_OCR_E_IMAGE (-206)     /* image data is damaged, truncated or not decodable */
#define TB_OCR_E_FORMAT (-207)    /* not an image format (or variant) the shim accepts */

/* Most TIFF directories (pages) tb_ocr_image_check() accepts in one file. */
#define TB_OCR_MAX_PAGES 10000
/* Most scans a JPEG may have: each scan of a progressive JPEG walks the whole image
   again, so many scans of little data cost unbounded CPU (libjpeg-turbo's advice is to
   limit them; encoders write about 10). */
#define TB_OCR_MAX_JPEG_SCANS 100

/* One element of a page (block, paragraph, line, word or symbol). */
typedef struct {
    int left, top, right, bottom; /* bounding box in image pixels, right/bottom exclusive */
    float confidence;             /* 0..100; -1 where there is none (layout only) */
    int block_num, par_num, line_num, word_num; /* numbering as in Tesseract's TSV */
    int block_type;               /* TessPolyBlockType of the enclosing block */
    size_t text_offset;           /* UTF-8 text at text[text_offset:text_offset+text_length] */
    size_t text_length;
} tb_ocr_element;

typedef struct {
    size_t elements;   /* elements on the page (written, or needed when TB_OCR_FULL) */
    size_t text_bytes; /* text bytes on the page (written, or needed when TB_OCR_FULL) */
} tb_ocr_walk_result;

/* What tb_ocr_image_check() found in encoded image data. */
typedef struct {
    int format;            /* Leptonica's IFF_* code (IFF_TIFF for every TIFF) */
    int pages;             /* TIFF directories; 1 for other formats */
    int page;              /* the page width and height describe (0 but on refusal) */
    uint32_t width, height; /* of that page: the first, or the one refused as too large */
    uint64_t total_pixels; /* every page's (or GIF frame's) pixels together */
} tb_ocr_image_info;

/* fflush(NULL): push what Tesseract's diagnostics stream (a FILE it opens once and keeps)
   has buffered into its file, so that tightbind can read it after each call. */
void tb_ocr_flush_diagnostics(void);

/* Silence Leptonica's stderr: its messages go to a per-thread buffer from now on. */
void tb_ocr_capture_messages(void);
/* Copy (at most capacity - 1 bytes, NUL-terminated) and clear this thread's messages.
   Returns the number of bytes copied. */
size_t tb_ocr_take_messages(char *out, size_t capacity);

/* Recognize the image set on api.  *cancel_flag (may be NULL) is polled during
   recognition; a non-zero value stops it (TB_OCR_E_CANCELLED).  deadline_ms > 0 stops
   recognition after that many milliseconds (TB_OCR_E_TIMEOUT).  Other failures are
   TB_OCR_E_FAILED. */
int tb_ocr_recognize(TessBaseAPI *api, volatile int *cancel_flag, int deadline_ms);

/* Walk the recognized page at `level` (a TessPageIteratorLevel) as Tesseract's TSV
   renderer does and write up to `capacity` elements and `text_capacity` bytes of text
   (not NUL-terminated).  Returns TB_OK, TB_OCR_FULL when an array was too small (the
   walk still counts everything, so one retry with the sizes in *result succeeds),
   TB_OCR_E_NO_RESULT when there is nothing recognized, or TB_E_ARG. */
int tb_ocr_walk(TessBaseAPI *api, int level, tb_ocr_element *out, size_t capacity,
                char *text, size_t text_capacity, tb_ocr_walk_result *result);

/* Walk a page iterator (e.g. from TessBaseAPIAnalyseLayout) at `level`, writing boxes
   and block types (no text, confidence -1).  Same return codes as tb_ocr_walk(). */
int tb_ocr_layout_walk(TessPageIterator *it, int level, tb_ocr_element *out,
                       size_t capacity, tb_ocr_walk_result *result);

/* Write the geometry of every box as (left, top, right, bottom) into out[4 * n]. */
int tb_ocr_boxa_boxes(BOXA *boxa, int *out, size_t capacity, size_t *count);

/* New Pix from raw 8-bit pixels: channels 1 (gray, 8 bpp), 3 (RGB) or 4 (RGBA) (32 bpp),
   rows `stride` bytes apart.  *out is NULL on failure. */
int tb_ocr_pix_from_raw(const uint8_t *data, int width, int height, int channels,
                        size_t stride, PIX **out);

/* Copy a Pix into raw 8-bit pixels: channels 1 for 8 bpp without colormap, 3 or 4 for
   32 bpp (per pixGetSpp).  Other depths must be converted first (TB_E_ARG).
   out must hold width * height * channels bytes. */
int tb_ocr_pix_to_raw(PIX *pix, int channels, uint8_t *out, size_t size);

/* Check encoded image data before any decoder sees it: recognise the format (PNG, JPEG,
   TIFF, BMP, PNM, GIF, WebP, JPEG 2000), read every declared size (each TIFF directory,
   each GIF frame) and refuse, before anything is allocated, an image or page with more
   than max_pixels pixels (TB_OCR_E_TOO_LARGE, with info->page/width/height naming it).
   Then walk the whole structure: chunks and CRCs, markers and scans, strips and tiles
   inside the data, PNG's compressed pixels inflated and counted (into a small scratch
   buffer), so that truncated or damaged data is TB_OCR_E_IMAGE here instead of a
   partial image, a hang or a message on stderr later.  TB_OCR_E_FORMAT for anything
   else (including BigTIFF, old-style JPEG in TIFF and Leptonica's own formats).
   The reason for a refusal is in the message buffer.  For a TIFF, the offsets of the
   first `capacity` directories go to page_offsets (for pixReadMemFromMultipageTiff);
   TB_OCR_FULL when info->pages is larger than capacity.  Memory used is constant. */
int tb_ocr_image_check(const uint8_t *data, size_t size, uint64_t max_pixels,
                       tb_ocr_image_info *info, uint64_t *page_offsets, size_t capacity);

/* Walk a classic TIFF's chain of directories without checking or decoding any page:
   their offsets (the first `capacity`) to offsets[], their number to *count
   (TB_OCR_FULL when larger than capacity).  A directory whose entries cannot be read is
   listed and ends the walk (its page then fails alone) unless it is the first
   (TB_OCR_E_IMAGE); a loop ends the walk too.  More than
   TB_OCR_MAX_PAGES directories is TB_OCR_E_IMAGE, not a TIFF TB_OCR_E_FORMAT. */
int tb_ocr_tiff_directories(const uint8_t *data, size_t size, uint64_t *offsets,
                            size_t capacity, size_t *count);

/* Check the one TIFF page whose directory is at `offset` (page `page` from 0, for
   messages) as tb_ocr_image_check() checks each: size within max_pixels (else
   TB_OCR_E_TOO_LARGE with info->width/height), strips and tiles inside the data. */
int tb_ocr_check_tiff_page(const uint8_t *data, size_t size, uint64_t offset, int page,
                           uint64_t max_pixels, tb_ocr_image_info *info);

/* Decode a JPEG with libjpeg, its warnings and errors going to the message buffer
   (Leptonica's own JPEG reader lets libjpeg print them on stderr).  Gray JPEGs give
   8 bpp, colour and CMYK ones 32 bpp RGB; the resolution is kept.  Returns
   TB_OCR_E_TOO_LARGE (before allocating) when the image has more than max_pixels
   pixels, TB_OCR_E_IMAGE for data libjpeg cannot decode or warns about (truncated or
   damaged); *out is NULL then. */
int tb_ocr_read_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, PIX **out);

/* Encode pix (format is an IFF_* code); *data is freed with lept_free(). */
int tb_ocr_pix_encode(PIX *pix, int format, uint8_t **data, size_t *size);

/* Destructors taking the object itself, for ffi.gc. */
void tb_ocr_pix_free(PIX *pix);
void tb_ocr_pixa_free(PIXA *pixa);
void tb_ocr_boxa_free(BOXA *boxa);

/* ---- tb_ocr_page_read (ocr_layout.cpp): every row of a page iterator at once ---- */
#define TB_OCR_LEVELS 5 /* RIL_BLOCK .. RIL_SYMBOL */

/* One position of the iterator: Begin(), then each Next(RIL_SYMBOL). */
typedef struct {
    int element[5]; /* per level, the index into tb_ocr_page.items[level] of the element
                       holding this position */
    int begins;     /* bit (1 << level) set: an element of that level begins here */
} tb_ocr_position;

/* One block, paragraph, line, word or symbol; fields beyond the first group are those of
   its level (zero elsewhere).  Text is at tb_ocr_page.text[offset:offset + length]. */
typedef struct {
    int empty;                      /* PageIterator::Empty(level) */
    int has_box, left, top, right, bottom;
    int has_baseline, baseline[4];  /* x1, y1, x2, y2 */
    int block_type;                 /* TessPolyBlockType of the enclosing block */
    int has_text;                   /* recognised pages: GetUTF8Text(level) */
    size_t text_offset, text_length;
    float confidence;               /* recognised pages, else -1 */
    /* block */
    int orientation, writing_direction, textline_order;
    float deskew_angle;
    size_t polygon_offset, polygon_count; /* points (x, y) in tb_ocr_page.polygon */
    /* paragraph */
    int justification, is_list_item, is_crown, first_line_indent;
    /* text line */
    float row_height, descenders, ascenders;
    /* word (recognised pages) */
    int has_font, is_bold, is_italic, is_underlined, is_monospace, is_serif, is_smallcaps;
    int pointsize, font_id;
    size_t font_offset, font_length;
    int from_dictionary, numeric, blanks_before, has_language;
    size_t language_offset, language_length;
    size_t timestep_offset, timestep_count; /* LSTM symbol choices: tb_ocr_page.timesteps */
    /* symbol (recognised pages) */
    int superscript, subscript, dropcap;
    size_t choice_offset, choice_count;   /* its choice iterator: tb_ocr_page.choices */
} tb_ocr_item;

typedef struct {
    size_t choice_offset, choice_count; /* alternatives in tb_ocr_page.choices */
} tb_ocr_timestep;

typedef struct {
    size_t text_offset, text_length;
    float value; /* confidence (choice iterator) or probability (LSTM choices) */
} tb_ocr_choice;

/* What tb_ocr_page_read() found; owned by the shim, freed by tb_ocr_page_free(). */
typedef struct {
    tb_ocr_position *positions;
    size_t position_count;
    tb_ocr_item *items[5];
    size_t item_count[5];
    int *polygon; /* x, y, x, y, ... */
    size_t polygon_count;
    tb_ocr_timestep *timesteps;
    size_t timestep_count;
    tb_ocr_choice *choices;
    size_t choice_count;
    char *text;
    size_t text_length;
    int recognized;
} tb_ocr_page;

/* Walk `iterator` from its beginning (it is left at its end) and record every position
   and every element of every level with its rows (see ocr_layout.cpp) into a new
   *out.  `recognized` non-zero: the iterator is a result iterator (TessBaseAPIGetIterator),
   so text, confidences, fonts and choices are read too.  Returns TB_OK, TB_E_NOMEM,
   TB_E_ARG (NULL, or not a result iterator when `recognized`) or TB_OCR_E_FAILED. */
int tb_ocr_page_read(TessPageIterator *iterator, int recognized, tb_ocr_page **out);
void tb_ocr_page_free(tb_ocr_page *page);

/* What TessBaseAPI::DetectOS() found (Tesseract's OSResults, best result). */
typedef struct {
    int orientation_id; /* 0..3: the page is turned 0, 270, 180, 90 degrees clockwise */
    float orientation_confidence;
    int script_id;      /* index of the best script in the OSD model's script table */
    float script_confidence;
} tb_ocr_osd;

/* Detect orientation and script on an engine initialised with "osd" that has an image
   (TessBaseAPI::DetectOS, C++ only).  TB_OCR_E_FAILED when it finds too little text. */
int tb_ocr_detect_os(TessBaseAPI *api, tb_ocr_osd *out);

/* OpenMP's thread limit in this process (omp_get_thread_limit), or -1 when no OpenMP
   runtime is loaded. */
int tb_ocr_openmp_thread_limit(void);
/* cffi:end */

#endif /* TB_OCR_H */
