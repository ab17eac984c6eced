/*
 * libFuzzer harness for the OCR shim's image checks (csrc/ocr_image.c, csrc/ocr_raster.c)
 * and its JPEG decoder (tb_ocr_read_jpeg in csrc/ocr.c), built with AddressSanitizer and
 * UBSan by scripts/fuzz-ocr.  The first input byte chooses the pixel limit; the rest is
 * the encoded image.  tb_ocr_image_check's contract is checked after every call, and data
 * it accepts is decoded as tightbind would decode it: JPEG by the shim, the other formats
 * by Leptonica (a system library, so not instrumented: its crashes and leaks still show,
 * its branches do not guide the fuzzer).  Any violation aborts, so libFuzzer reports it
 * with the sanitizers' findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tightbind.h" /* with TB_WITH_OCR: ocr.h too */

#define CHECK(cond) \
    do {            \
        if (!(cond)) \
            abort(); \
    } while (0)

enum { CAPACITY = 8 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    tb_ocr_capture_messages(); /* Leptonica's messages to the buffer, not stderr */
    return 0;
}

static size_t reason(void)
{
    char text[512];
    return tb_ocr_take_messages(text, sizeof text);
}

/* Decode what the check accepted, as tightbind.ocr.pix does, and compare sizes. */
static void decode(const uint8_t *image, size_t size, const tb_ocr_image_info *info,
                   const uint64_t *offsets, uint64_t max_pixels)
{
    PIX *pix = NULL;

    if (info->format == IFF_JFIF_JPEG) {
        int rc = tb_ocr_read_jpeg(image, size, max_pixels, &pix);
        CHECK(rc == TB_OK || rc == TB_OCR_E_IMAGE || rc == TB_E_NOMEM);
        CHECK((rc == TB_OK) == (pix != NULL));
        if (pix != NULL)
            CHECK((uint32_t)pixGetWidth(pix) == info->width &&
                  (uint32_t)pixGetHeight(pix) == info->height);
    } else if (info->format == IFF_TIFF) {
        for (int page = 0; page < info->pages && page < CAPACITY; page++) {
            size_t offset = (size_t)offsets[page];
            pix = pixReadMemFromMultipageTiff(image, size, &offset);
            pixDestroy(&pix);
        }
    } else {
        pix = pixReadMem(image, size);
        if (pix != NULL && info->format == IFF_PNG)
            CHECK((uint32_t)pixGetWidth(pix) == info->width &&
                  (uint32_t)pixGetHeight(pix) == info->height);
    }
    pixDestroy(&pix);
    reason();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tb_ocr_image_info info;
    uint64_t offsets[CAPACITY];
    uint64_t max_pixels;
    uint8_t *image;
    int rc;

    if (size < 1)
        return 0;
    /* Small limits keep the decoders quick; 0 tries the largest. */
    max_pixels = data[0] == 0 ? UINT64_MAX : (uint64_t)data[0] * data[0] * 16;
    size--;
    /* An exact-size copy, so reading one byte past the end is an ASan error. */
    image = malloc(size ? size : 1);
    CHECK(image != NULL);
    memcpy(image, data + 1, size);

    rc = tb_ocr_image_check(image, size, max_pixels, &info, offsets, CAPACITY);
    CHECK(rc == TB_OK || rc == TB_OCR_FULL || rc == TB_OCR_E_TOO_LARGE ||
          rc == TB_OCR_E_IMAGE || rc == TB_OCR_E_FORMAT || rc == TB_E_NOMEM);
    CHECK(info.pages >= 0 && info.pages <= TB_OCR_MAX_PAGES);
    if (rc == TB_OCR_E_TOO_LARGE) {
        CHECK((uint64_t)info.width * info.height > max_pixels ||
              info.total_pixels > max_pixels);
        CHECK(reason() > 0);
    } else if (rc == TB_OCR_E_IMAGE || rc == TB_OCR_E_FORMAT) {
        CHECK(reason() > 0); /* every refusal says why */
    } else if (rc == TB_OK || rc == TB_OCR_FULL) {
        CHECK(info.width > 0 && info.height > 0 && info.pages >= 1);
        CHECK((uint64_t)info.width * info.height <= max_pixels);
        CHECK((rc == TB_OCR_FULL) == (info.format == IFF_TIFF && info.pages > CAPACITY));
        for (int page = 0; info.format == IFF_TIFF && page < info.pages && page < CAPACITY;
             page++)
            CHECK(offsets[page] >= 8 && offsets[page] < size);
        CHECK(reason() == 0); /* an accepted image leaves no message */
        if (max_pixels <= (1u << 22))
            decode(image, size, &info, offsets, max_pixels);
    }
    if (size >= 4 && (image[0] == 'I' || image[0] == 'M')) {
        /* The batch's way through a TIFF: its chain, then each page checked alone. */
        uint64_t chain[CAPACITY];
        size_t count = 0;
        int walk = tb_ocr_tiff_directories(image, size, chain, CAPACITY, &count);
        CHECK(walk == TB_OK || walk == TB_OCR_FULL || walk == TB_OCR_E_IMAGE ||
              walk == TB_OCR_E_FORMAT || walk == TB_E_NOMEM);
        CHECK(count <= TB_OCR_MAX_PAGES && (walk != TB_OK || count >= 1));
        CHECK((walk == TB_OCR_FULL) == (walk != TB_OCR_E_IMAGE && count > CAPACITY));
        reason();
        for (size_t page = 0; walk == TB_OK && page < count; page++) {
            tb_ocr_image_info one;
            int checked = tb_ocr_check_tiff_page(image, size, chain[page], (int)page,
                                                 max_pixels, &one);
            CHECK(checked == TB_OK || checked == TB_OCR_E_TOO_LARGE ||
                  checked == TB_OCR_E_IMAGE || checked == TB_OCR_E_FORMAT);
            CHECK((checked == TB_OK) == (reason() == 0));
            if (checked == TB_OK && max_pixels <= (1u << 22)) {
                size_t cursor = (size_t)chain[page];
                PIX *pix = pixReadMemFromMultipageTiff(image, size, &cursor);
                pixDestroy(&pix);
                reason();
            }
        }
    }
    free(image);
    return 0;
}
