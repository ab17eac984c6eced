/*
 * libFuzzer harness for csrc/frame.c.  The first four input bytes choose a frame format
 * (protobufp, varint, gRPC-like, or an arbitrary and possibly invalid fixed layout), the
 * type count, the payload limit and the batch capacity; the rest is the stream.  Every
 * scan result is checked against the scanner's contract and any violation aborts, so
 * the fuzzer reports it alongside AddressSanitizer's and UBSan's findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define CHECK(cond) \
    do {            \
        if (!(cond)) \
            abort(); \
    } while (0)

static void choose_format(const uint8_t *selector, tb_frame_format *format)
{
    memset(format, 0, sizeof *format);
    switch (selector[0] % 4) {
    case 0: /* protobufp */
        format->prefix = TB_FRAME_PREFIX_FIXED;
        format->header_size = 8;
        format->length_bias = 4;
        format->type_offset = 4;
        format->type_width = 4;
        break;
    case 1:
        format->prefix = TB_FRAME_PREFIX_VARINT;
        format->type_offset = -1;
        break;
    case 2: /* gRPC: u8 flag, u32be length */
        format->prefix = TB_FRAME_PREFIX_FIXED;
        format->header_size = 5;
        format->length_offset = 1;
        format->type_offset = 0;
        format->type_width = 1;
        break;
    default: /* arbitrary, often invalid */
        format->prefix = selector[0] >> 7;
        format->header_size = selector[0] & 0x0f;
        format->length_offset = (selector[1] >> 4) & 0x0f;
        format->length_bias = selector[1] & 0x0f;
        format->type_offset = (int32_t)(selector[2] & 0x0f) - 4;
        format->type_width = (selector[2] >> 4) & 0x07;
        break;
    }
    format->type_count = selector[1];
    format->max_payload = selector[2] == 0xff ? UINT64_MAX : (uint64_t)selector[2] * 97;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { CAPACITY = 16 };
    if (size < 4)
        return 0;
    tb_frame_format format;
    choose_format(data, &format);
    size_t capacity = (data[3] % CAPACITY) + 1;
    size_t len = size - 4;
    /* An exact-size copy, so reading one byte past the end is an ASan error. */
    unsigned char *buf = malloc(len ? len : 1);
    CHECK(buf != NULL);
    memcpy(buf, data + 4, len);

    uint32_t types[CAPACITY];
    size_t starts[CAPACITY], ends[CAPACITY];
    char layout[CAPACITY * TB_FRAME_FORMAT_BYTES + 2];
    tb_frame_scan_result result;
    size_t pos = 0;
    for (;;) {
        int status = tb_frame_scan(&format, buf, len, pos, types, starts, ends, capacity,
                                   &result);
        if (status == TB_FRAME_E_FORMAT)
            break;
        CHECK(result.frames <= capacity);
        CHECK(result.consumed >= pos && result.consumed <= len);
        size_t previous = pos;
        for (size_t i = 0; i < result.frames; i++) {
            CHECK(starts[i] >= previous && starts[i] <= ends[i] && ends[i] <= len);
            CHECK(ends[i] - starts[i] <= format.max_payload);
            CHECK(types[i] < format.type_count);
            previous = ends[i];
        }
        CHECK(previous == result.consumed);
        size_t written = tb_frame_struct_format(pos, starts, ends, result.frames, layout,
                                                sizeof layout);
        CHECK(written > 0 && written < sizeof layout && layout[written] == '\0');
        if (status < 0) {
            CHECK(status >= TB_FRAME_E_TYPE);
            CHECK(result.error_offset == result.consumed);
            if (status == TB_FRAME_E_TYPE) {
                CHECK(result.error_end > result.error_offset && result.error_end <= len);
                CHECK(result.error_value >= format.type_count);
                pos = result.error_end; /* skip the frame, as the Python side does */
                continue;
            }
            break;
        }
        CHECK(status == TB_FRAME_NEED_MORE || status == TB_FRAME_FULL);
        if (status == TB_FRAME_NEED_MORE) {
            if (result.pending_size) {
                /* The incomplete frame's header is in the buffer; its payload is not. */
                CHECK(result.pending_header > 0);
                CHECK(result.pending_header <= len - result.consumed);
                CHECK(result.pending_size > len - result.consumed);
                CHECK(result.pending_size - result.pending_header <= format.max_payload);
            }
            break;
        }
        CHECK(result.frames == capacity);
        pos = result.consumed;
    }
    free(buf);
    return 0;
}
