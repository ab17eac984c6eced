/*
 * frame.c: scan a byte buffer for length-prefixed frames (see frame.h).
 *
 * The scanner never reads past buf + len, never allocates, and does all arithmetic on
 * lengths before adding them to offsets, so hostile length fields cannot overflow.
 */
#include "frame.h"

static uint32_t load_u32be(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
           (uint32_t)p[3];
}

static int format_is_valid(const tb_frame_format *format)
{
    if (format->prefix == TB_FRAME_PREFIX_VARINT)
        return 1;
    if (format->prefix != TB_FRAME_PREFIX_FIXED)
        return 0;
    if ((uint64_t)format->length_offset + 4 > format->header_size)
        return 0;
    if (format->type_offset >= 0) {
        if (format->type_width != 1 && format->type_width != 4)
            return 0;
        if ((uint64_t)format->type_offset + format->type_width > format->header_size)
            return 0;
    }
    return 1;
}

/*
 * Read the header of the frame at buf[pos:len].  On success store the header size and
 * payload length and return TB_FRAME_FULL as "header complete"; otherwise return
 * TB_FRAME_NEED_MORE or an error code.
 */
static int read_header(const tb_frame_format *format, const unsigned char *buf, size_t len,
                       size_t pos, size_t *header_size, uint64_t *payload_length)
{
    size_t avail = len - pos;

    if (format->prefix == TB_FRAME_PREFIX_VARINT) {
        uint64_t value = 0;
        for (size_t i = 0; i < TB_VARINT_MAX_BYTES; i++) {
            if (i >= avail)
                return TB_FRAME_NEED_MORE;
            unsigned char byte = buf[pos + i];
            if (i == TB_VARINT_MAX_BYTES - 1 && byte > 1) {
                /* A tenth byte may only contribute bit 63 and must end the varint. */
                *payload_length = byte;
                return TB_FRAME_E_VARINT;
            }
            value |= (uint64_t)(byte & 0x7f) << (7 * i);
            if (!(byte & 0x80)) {
                *header_size = i + 1;
                *payload_length = value;
                return TB_FRAME_FULL;
            }
        }
        return TB_FRAME_E_VARINT; /* not reached: the tenth byte returns above */
    }

    if (avail < format->header_size)
        return TB_FRAME_NEED_MORE;
    uint64_t field = load_u32be(buf + pos + format->length_offset);
    if (field < format->length_bias) {
        *payload_length = field;
        return TB_FRAME_E_LENGTH;
    }
    *header_size = format->header_size;
    *payload_length = field - format->length_bias;
    return TB_FRAME_FULL;
}

static uint32_t read_type(const tb_frame_format *format, const unsigned char *header)
{
    if (format->prefix != TB_FRAME_PREFIX_FIXED || format->type_offset < 0)
        return 0;
    if (format->type_width == 1)
        return header[format->type_offset];
    return load_u32be(header + format->type_offset);
}

int tb_frame_scan(const tb_frame_format *format, const unsigned char *buf, size_t len,
                  size_t start, uint32_t *types, size_t *payload_start, size_t *payload_end,
                  size_t capacity, tb_frame_scan_result *result)
{
    size_t pos = start;
    size_t count = 0;
    int status = TB_FRAME_NEED_MORE;

    result->frames = 0;
    result->consumed = start;
    result->error_offset = 0;
    result->error_value = 0;
    result->error_end = 0;
    result->pending_size = 0;
    result->pending_header = 0;
    result->pending_type = 0;
    if (!format_is_valid(format) || start > len || (buf == NULL && len != 0))
        return TB_FRAME_E_FORMAT;

    while (pos < len) {
        if (count == capacity) {
            status = TB_FRAME_FULL;
            break;
        }
        size_t header_size = 0;
        uint64_t payload_length = 0;
        status = read_header(format, buf, len, pos, &header_size, &payload_length);
        if (status == TB_FRAME_FULL && payload_length > format->max_payload) {
            status = TB_FRAME_E_TOO_LARGE;
        }
        if (status != TB_FRAME_FULL) {
            if (status < 0) {
                result->error_offset = pos;
                result->error_value = payload_length;
            }
            break;
        }
        /* header_size <= len - pos here, and payload_length is bounded by max_payload. */
        if (payload_length > (uint64_t)(len - pos - header_size)) {
            status = TB_FRAME_NEED_MORE;
            result->pending_size = payload_length > UINT64_MAX - header_size
                                       ? UINT64_MAX
                                       : header_size + payload_length;
            result->pending_header = header_size;
            result->pending_type = read_type(format, buf + pos);
            break;
        }
        size_t end = pos + header_size + (size_t)payload_length;
        uint32_t type = read_type(format, buf + pos);
        if (type >= format->type_count) {
            status = TB_FRAME_E_TYPE;
            result->error_offset = pos;
            result->error_value = type;
            result->error_end = end;
            break;
        }
        types[count] = type;
        payload_start[count] = pos + header_size;
        payload_end[count] = end;
        count++;
        pos = end;
        status = TB_FRAME_NEED_MORE;
    }

    result->frames = count;
    result->consumed = pos;
    return status;
}


static size_t write_decimal(size_t value, char *out)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

size_t tb_frame_struct_format(size_t start, const size_t *payload_start,
                              const size_t *payload_end, size_t count, char *out,
                              size_t out_capacity)
{
    if (out_capacity < 2 || count > (out_capacity - 2) / TB_FRAME_FORMAT_BYTES)
        return 0;
    size_t n = 0;
    size_t pos = start;
    out[n++] = '=';
    for (size_t i = 0; i < count; i++) {
        if (payload_start[i] < pos || payload_end[i] < payload_start[i])
            return 0;
        if (payload_start[i] > pos) {
            n += write_decimal(payload_start[i] - pos, out + n);
            out[n++] = 'x';
        }
        n += write_decimal(payload_end[i] - payload_start[i], out + n);
        out[n++] = 's';
        pos = payload_end[i];
    }
    out[n] = '\0';
    return n;
}
