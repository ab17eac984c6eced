/*
 * ocr.c: tightbind's shim over Tesseract's C API and Leptonica (see ocr.h).
 */
#define _GNU_SOURCE
#include "ocr_internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

/* ---- Leptonica messages ------------------------------------------------------------ */

#define TB_OCR_MESSAGE_CAPACITY 4096

static _Thread_local char tb_messages[TB_OCR_MESSAGE_CAPACITY];
static _Thread_local size_t tb_messages_length;

static void tb_ocr_lept_handler(const char *message)
{
    size_t room, length;

    if (message == NULL)
        return;
    room = TB_OCR_MESSAGE_CAPACITY - 1 - tb_messages_length;
    length = strlen(message);
    if (length > room)
        length = room; /* keep the first messages, which name the cause */
    memcpy(tb_messages + tb_messages_length, message, length);
    tb_messages_length += length;
    tb_messages[tb_messages_length] = '\0';
}

void tb_ocr_note(const char *format, ...)
{
    char line[512];
    va_list args;

    va_start(args, format);
    vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    strcat(line, "\n");
    tb_ocr_lept_handler(line);
}

void tb_ocr_flush_diagnostics(void)
{
    fflush(NULL);
}

void tb_ocr_capture_messages(void)
{
    leptSetStderrHandler(tb_ocr_lept_handler);
}

size_t tb_ocr_take_messages(char *out, size_t capacity)
{
    size_t length = tb_messages_length;

    if (out == NULL || capacity == 0)
        return 0;
    if (length > capacity - 1)
        length = capacity - 1;
    memcpy(out, tb_messages, length);
    out[length] = '\0';
    tb_messages_length = 0;
    tb_messages[0] = '\0';
    return length;
}

/* ---- recognition under a monitor --------------------------------------------------- */

static bool tb_ocr_cancel_requested(void *cancel_this, int words)
{
    const volatile int *flag = cancel_this;
    (void)words;
    return flag != NULL && *flag != 0;
}

static double tb_ocr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int tb_ocr_recognize(TessBaseAPI *api, volatile int *cancel_flag, int deadline_ms)
{
    ETEXT_DESC *monitor;
    double started;
    int rc;

    if (api == NULL || deadline_ms < 0)
        return TB_E_ARG;
    monitor = TessMonitorCreate();
    if (monitor == NULL)
        return TB_E_NOMEM;
    TessMonitorSetCancelFunc(monitor, tb_ocr_cancel_requested);
    TessMonitorSetCancelThis(monitor, (void *)cancel_flag);
    if (deadline_ms > 0)
        TessMonitorSetDeadlineMSecs(monitor, deadline_ms);
    started = tb_ocr_now_ms();
    rc = TessBaseAPIRecognize(api, monitor);
    TessMonitorDelete(monitor);
    if (rc == 0)
        return TB_OK;
    if (cancel_flag != NULL && *cancel_flag != 0)
        return TB_OCR_E_CANCELLED;
    if (deadline_ms > 0 && tb_ocr_now_ms() - started >= (double)deadline_ms)
        return TB_OCR_E_TIMEOUT;
    return TB_OCR_E_FAILED;
}

/* ---- walking a page ---------------------------------------------------------------- */

typedef struct {
    tb_ocr_element *out;
    size_t capacity;
    char *text;
    size_t text_capacity;
    size_t count;
    size_t text_used;
} tb_ocr_sink;

/* PageIterator::Empty(level) is not in the C API; BoundingBox() fails exactly when the
   iterator is empty at that level. */
static int tb_ocr_box(const TessPageIterator *it, int level, int *l, int *t, int *r, int *b)
{
    return TessPageIteratorBoundingBox(it, (TessPageIteratorLevel)level, l, t, r, b);
}

static int tb_ocr_not_empty(const TessPageIterator *it, int level)
{
    int l, t, r, b;
    return tb_ocr_box(it, level, &l, &t, &r, &b);
}

static void tb_ocr_append_text(tb_ocr_sink *sink, const char *text)
{
    size_t length;

    if (text == NULL)
        return;
    length = strlen(text);
    if (sink->text_used + length <= sink->text_capacity)
        memcpy(sink->text + sink->text_used, text, length);
    sink->text_used += length;
}

static tb_ocr_element *tb_ocr_emit(tb_ocr_sink *sink, const TessPageIterator *it, int level,
                                   float confidence, const int numbers[4], int block_type)
{
    tb_ocr_element *element = NULL;
    tb_ocr_element scratch;

    element = sink->count < sink->capacity ? &sink->out[sink->count] : &scratch;
    sink->count++;
    if (!tb_ocr_box(it, level, &element->left, &element->top, &element->right,
                    &element->bottom))
        element->left = element->top = element->right = element->bottom = 0;
    element->confidence = confidence;
    element->block_num = numbers[0];
    element->par_num = numbers[1];
    element->line_num = numbers[2];
    element->word_num = numbers[3];
    element->block_type = block_type;
    element->text_offset = sink->text_used;
    element->text_length = 0;
    return element == &scratch ? NULL : element;
}

static void tb_ocr_emit_text(tb_ocr_sink *sink, tb_ocr_element *element, char *text)
{
    size_t start = sink->text_used;
    tb_ocr_append_text(sink, text);
    if (element != NULL)
        element->text_length = sink->text_used - start;
    TessDeleteText(text);
}

static int tb_ocr_finish(const tb_ocr_sink *sink, tb_ocr_walk_result *result)
{
    result->elements = sink->count;
    result->text_bytes = sink->text_used;
    if (sink->count > sink->capacity || sink->text_used > sink->text_capacity)
        return TB_OCR_FULL;
    return TB_OK;
}

int tb_ocr_walk(TessBaseAPI *api, int level, tb_ocr_element *out, size_t capacity,
                char *text, size_t text_capacity, tb_ocr_walk_result *result)
{
    TessResultIterator *ri;
    TessPageIterator *pi;
    tb_ocr_sink sink = {out, capacity, text, text_capacity, 0, 0};
    int numbers[4] = {0, 0, 0, 0}; /* block, paragraph, line, word */

    if (api == NULL || result == NULL || level < RIL_BLOCK || level > RIL_SYMBOL ||
        (capacity > 0 && out == NULL) || (text_capacity > 0 && text == NULL))
        return TB_E_ARG;
    result->elements = result->text_bytes = 0;
    ri = TessBaseAPIGetIterator(api);
    if (ri == NULL)
        return TB_OCR_E_NO_RESULT;
    pi = TessResultIteratorGetPageIterator(ri);

    /* The loop of TessBaseAPI::GetTSVText(), so numbers, boxes and words agree.  It
       tests Empty(RIL_BLOCK), which the C API lacks; BoundingBox(RIL_BLOCK) would do
       but computes the block's box each time, so after the first test the end of the
       page is taken from Next()'s result, which is false exactly when no block is left. */
    int more = tb_ocr_not_empty(pi, RIL_BLOCK);
    while (more) {
        int block_type;
        tb_ocr_element *word = NULL;
        size_t word_start;

        if (!tb_ocr_not_empty(pi, RIL_WORD)) {
            more = TessResultIteratorNext(ri, RIL_WORD);
            continue;
        }
        block_type = (int)TessPageIteratorBlockType(pi);
        /* New block, paragraph or line: count it (resetting the finer counts), and emit
           it when it is the level asked for.  RIL_BLOCK..RIL_TEXTLINE are 0..2. */
        for (int outer = RIL_BLOCK; outer <= RIL_TEXTLINE; outer++) {
            if (!TessPageIteratorIsAtBeginningOf(pi, (TessPageIteratorLevel)outer))
                continue;
            numbers[outer]++;
            for (int finer = outer + 1; finer < 4; finer++)
                numbers[finer] = 0;
            if (level == outer)
                tb_ocr_emit_text(
                    &sink,
                    tb_ocr_emit(&sink, pi, outer,
                                TessResultIteratorConfidence(ri, (TessPageIteratorLevel)outer),
                                numbers, block_type),
                    TessResultIteratorGetUTF8Text(ri, (TessPageIteratorLevel)outer));
        }
        numbers[3]++;
        word_start = sink.text_used;
        if (level == RIL_WORD)
            word = tb_ocr_emit(&sink, pi, RIL_WORD, TessResultIteratorConfidence(ri, RIL_WORD),
                               numbers, block_type);
        if (level < RIL_WORD) {
            more = TessResultIteratorNext(ri, RIL_WORD);
            continue;
        }
        /* A word's text is its symbols' texts, as in the TSV. */
        do {
            if (level == RIL_WORD) {
                char *symbol = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);
                tb_ocr_append_text(&sink, symbol);
                TessDeleteText(symbol);
            } else {
                tb_ocr_emit_text(&sink,
                                 tb_ocr_emit(&sink, pi, RIL_SYMBOL,
                                             TessResultIteratorConfidence(ri, RIL_SYMBOL),
                                             numbers, block_type),
                                 TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL));
            }
            more = TessResultIteratorNext(ri, RIL_SYMBOL);
        } while (more && !TessPageIteratorIsAtBeginningOf(pi, RIL_WORD));
        if (word != NULL)
            word->text_length = sink.text_used - word_start;
    }
    TessResultIteratorDelete(ri);
    return tb_ocr_finish(&sink, result);
}

int tb_ocr_layout_walk(TessPageIterator *it, int level, tb_ocr_element *out,
                       size_t capacity, tb_ocr_walk_result *result)
{
    tb_ocr_sink sink = {out, capacity, NULL, 0, 0, 0};
    int numbers[4] = {0, 0, 0, 0};

    if (it == NULL || result == NULL || level < RIL_BLOCK || level > RIL_SYMBOL ||
        (capacity > 0 && out == NULL))
        return TB_E_ARG;
    result->elements = result->text_bytes = 0;
    TessPageIteratorBegin(it);
    do {
        if (!tb_ocr_not_empty(it, level))
            continue;
        if (TessPageIteratorIsAtBeginningOf(it, RIL_BLOCK)) {
            numbers[0]++;
            numbers[1] = numbers[2] = numbers[3] = 0;
        }
        if (level >= RIL_PARA && TessPageIteratorIsAtBeginningOf(it, RIL_PARA)) {
            numbers[1]++;
            numbers[2] = numbers[3] = 0;
        }
        if (level >= RIL_TEXTLINE && TessPageIteratorIsAtBeginningOf(it, RIL_TEXTLINE)) {
            numbers[2]++;
            numbers[3] = 0;
        }
        if (level >= RIL_WORD && TessPageIteratorIsAtBeginningOf(it, RIL_WORD))
            numbers[3]++;
        tb_ocr_emit(&sink, it, level, -1.0f, numbers, (int)TessPageIteratorBlockType(it));
    } while (TessPageIteratorNext(it, (TessPageIteratorLevel)level));
    return tb_ocr_finish(&sink, result);
}

int tb_ocr_boxa_boxes(BOXA *boxa, int *out, size_t capacity, size_t *count)
{
    l_int32 n, i, x, y, w, h;

    if (boxa == NULL || count == NULL)
        return TB_E_ARG;
    n = boxaGetCount(boxa);
    *count = (size_t)n;
    if ((size_t)n > capacity)
        return TB_OCR_FULL;
    for (i = 0; i < n; i++) {
        if (boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h) != 0)
            return TB_OCR_E_FAILED;
        out[4 * i] = x;
        out[4 * i + 1] = y;
        out[4 * i + 2] = x + w;
        out[4 * i + 3] = y + h;
    }
    return TB_OK;
}

/* ---- Pix --------------------------------------------------------------------------- */

int tb_ocr_pix_from_raw(const uint8_t *data, int width, int height, int channels,
                        size_t stride, PIX **out)
{
    PIX *pix;
    l_uint32 *pixels;
    int wpl, x, y;

    if (out == NULL)
        return TB_E_ARG;
    *out = NULL;
    if (data == NULL || width <= 0 || height <= 0 ||
        (channels != 1 && channels != 3 && channels != 4) ||
        stride < (size_t)width * (size_t)channels)
        return TB_E_ARG;
    pix = pixCreate(width, height, channels == 1 ? 8 : 32);
    if (pix == NULL)
        return TB_E_NOMEM;
    pixels = pixGetData(pix);
    wpl = pixGetWpl(pix);
    for (y = 0; y < height; y++) {
        const uint8_t *src = data + (size_t)y * stride;
        l_uint32 *line = pixels + (size_t)y * (size_t)wpl;
        if (channels == 1) {
            for (x = 0; x < width; x++)
                SET_DATA_BYTE(line, x, src[x]);
        } else {
            for (x = 0; x < width; x++, src += channels) {
                l_uint32 alpha = channels == 4 ? src[3] : 255;
                line[x] = ((l_uint32)src[0] << L_RED_SHIFT) |
                          ((l_uint32)src[1] << L_GREEN_SHIFT) |
                          ((l_uint32)src[2] << L_BLUE_SHIFT) | (alpha << L_ALPHA_SHIFT);
            }
        }
    }
    if (channels != 1)
        pixSetSpp(pix, channels);
    *out = pix;
    return TB_OK;
}

int tb_ocr_pix_to_raw(PIX *pix, int channels, uint8_t *out, size_t size)
{
    l_int32 width, height, depth;
    l_uint32 *pixels;
    int wpl, x, y;

    if (pix == NULL || out == NULL)
        return TB_E_ARG;
    if (pixGetDimensions(pix, &width, &height, &depth) != 0)
        return TB_OCR_E_FAILED;
    if (pixGetColormap(pix) != NULL ||
        !((depth == 8 && channels == 1) || (depth == 32 && (channels == 3 || channels == 4))) ||
        size < (size_t)width * (size_t)height * (size_t)channels)
        return TB_E_ARG;
    pixels = pixGetData(pix);
    wpl = pixGetWpl(pix);
    for (y = 0; y < height; y++) {
        const l_uint32 *line = pixels + (size_t)y * (size_t)wpl;
        uint8_t *dst = out + (size_t)y * (size_t)width * (size_t)channels;
        if (channels == 1) {
            for (x = 0; x < width; x++)
                dst[x] = (uint8_t)GET_DATA_BYTE(line, x);
        } else {
            for (x = 0; x < width; x++, dst += channels) {
                l_uint32 value = line[x];
                dst[0] = (uint8_t)(value >> L_RED_SHIFT);
                dst[1] = (uint8_t)(value >> L_GREEN_SHIFT);
                dst[2] = (uint8_t)(value >> L_BLUE_SHIFT);
                if (channels == 4)
                    dst[3] = (uint8_t)(value >> L_ALPHA_SHIFT);
            }
        }
    }
    return TB_OK;
}

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf escape;
} tb_ocr_jpeg_errors;

static void tb_ocr_jpeg_message(j_common_ptr cinfo)
{
    char text[JMSG_LENGTH_MAX + 8];
    (*cinfo->err->format_message)(cinfo, text);
    strcat(text, "\n");
    tb_ocr_lept_handler(text);
}

static void tb_ocr_jpeg_fail(j_common_ptr cinfo)
{
    tb_ocr_jpeg_message(cinfo);
    longjmp(((tb_ocr_jpeg_errors *)cinfo->err)->escape, 1);
}

static void tb_ocr_jpeg_abort(tb_ocr_jpeg_errors *errors, const char *why)
{
    tb_ocr_lept_handler(why);
    tb_ocr_lept_handler("\n");
    longjmp(errors->escape, 1);
}

int tb_ocr_read_jpeg(const uint8_t *data, size_t size, uint64_t max_pixels, PIX **out)
{
    struct jpeg_decompress_struct cinfo;
    tb_ocr_jpeg_errors errors;
    PIX *volatile pix = NULL;
    JSAMPLE *volatile row = NULL;
    l_uint32 *pixels;
    int wpl, cmyk, adobe;
    JDIMENSION width, height, x;

    if (out == NULL)
        return TB_E_ARG;
    *out = NULL;
    if (data == NULL || size == 0 || size > (size_t)ULONG_MAX)
        return TB_E_ARG;
    cinfo.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = tb_ocr_jpeg_fail;
    errors.manager.output_message = tb_ocr_jpeg_message;
    if (setjmp(errors.escape)) {
        PIX *partial = pix;
        jpeg_destroy_decompress(&cinfo);
        pixDestroy(&partial);
        free(row);
        return TB_OCR_E_IMAGE;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    adobe = cinfo.saw_Adobe_marker;
    cinfo.out_color_space = cmyk ? JCS_CMYK : (cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB);
    if ((uint64_t)cinfo.image_width * (uint64_t)cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return TB_OCR_E_TOO_LARGE;
    }
    if (cinfo.arith_code) /* refused by tb_ocr_image_check(); see there */
        tb_ocr_jpeg_abort(&errors, "arithmetic-coded JPEG is not supported");
    jpeg_start_decompress(&cinfo);
    width = cinfo.output_width;
    height = cinfo.output_height;
    if (width == 0 || height == 0 || width > 65535 || height > 65535)
        tb_ocr_jpeg_abort(&errors, "JPEG image is empty or larger than 65535 pixels a side");
    /* Not pixCreate(), which zeroes (touches) the whole image first: a JPEG refused
       after its first rows then costs only those rows.  Every row, padding included,
       is written below. */
    pix = pixCreateNoInit((l_int32)width, (l_int32)height,
                          cinfo.output_components == 1 ? 8 : 32);
    row = malloc((size_t)width * (size_t)cinfo.output_components);
    if (pix == NULL || row == NULL)
        tb_ocr_jpeg_abort(&errors, "out of memory for a JPEG image");
    pixels = pixGetData(pix);
    wpl = pixGetWpl(pix);
    while (cinfo.output_scanline < height) {
        JSAMPROW rows[1] = {row};
        JDIMENSION y = cinfo.output_scanline;
        l_uint32 *line = pixels + (size_t)y * (size_t)wpl;
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1)
            tb_ocr_jpeg_abort(&errors, "JPEG data ended early");
        if (errors.manager.num_warnings > 0) /* stop at once: the rest is filler */
            tb_ocr_jpeg_abort(&errors, "JPEG data is damaged or truncated");
        line[wpl - 1] = 0; /* the padding after the last pixel (8 bpp) */
        for (x = 0; x < width; x++) {
            const JSAMPLE *p = row + (size_t)x * (size_t)cinfo.output_components;
            l_uint32 r, g, b;
            if (cinfo.output_components == 1) {
                SET_DATA_BYTE(line, x, p[0]);
                continue;
            }
            if (cmyk) { /* Adobe writes CMYK inverted */
                l_uint32 c = adobe ? p[0] : 255u - p[0], m = adobe ? p[1] : 255u - p[1],
                         ye = adobe ? p[2] : 255u - p[2], k = adobe ? p[3] : 255u - p[3];
                r = c * k / 255u;
                g = m * k / 255u;
                b = ye * k / 255u;
            } else {
                r = p[0];
                g = p[1];
                b = p[2];
            }
            line[x] = (r << L_RED_SHIFT) | (g << L_GREEN_SHIFT) | (b << L_BLUE_SHIFT) |
                      (255u << L_ALPHA_SHIFT);
        }
    }
    if (cinfo.density_unit == 1)
        pixSetResolution(pix, cinfo.X_density, cinfo.Y_density);
    else if (cinfo.density_unit == 2)
        pixSetResolution(pix, (l_int32)(cinfo.X_density * 2.54 + 0.5),
                         (l_int32)(cinfo.Y_density * 2.54 + 0.5));
    jpeg_finish_decompress(&cinfo);
    /* libjpeg warns and fills in what it could not decode (truncated or damaged
       data); like Leptonica, refuse such an image rather than recognise filler. */
    if (errors.manager.num_warnings > 0)
        tb_ocr_jpeg_abort(&errors, "JPEG data is damaged or truncated");
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *out = pix;
    return TB_OK;
}

int tb_ocr_pix_encode(PIX *pix, int format, uint8_t **data, size_t *size)
{
    if (pix == NULL || data == NULL || size == NULL)
        return TB_E_ARG;
    *data = NULL;
    *size = 0;
    if (pixWriteMem(data, size, pix, format) != 0 || *data == NULL) {
        if (*data != NULL)
            lept_free(*data);
        *data = NULL;
        return TB_OCR_E_FAILED;
    }
    return TB_OK;
}

void tb_ocr_pix_free(PIX *pix)
{
    pixDestroy(&pix);
}

void tb_ocr_pixa_free(PIXA *pixa)
{
    pixaDestroy(&pixa);
}

void tb_ocr_boxa_free(BOXA *boxa)
{
    boxaDestroy(&boxa);
}

int tb_ocr_openmp_thread_limit(void)
{
    int (*limit)(void);
    *(void **)(&limit) = dlsym(RTLD_DEFAULT, "omp_get_thread_limit");
    return limit == NULL ? -1 : limit();
}
