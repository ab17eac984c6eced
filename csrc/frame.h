/*
 * frame.h: the frame scanner behind tightbind.framing.
 *
 * A stream is a sequence of frames, each a header followed by a payload.  The header
 * is either fixed-width (a big-endian u32 length somewhere in it, optionally a type
 * field) or a protobuf base-128 varint holding the payload length.  One call to
 * tb_frame_scan() walks as many complete frames as the buffer holds and writes each
 * frame's type and payload bounds into caller-owned arrays.
 */
#ifndef TB_FRAME_H
#define TB_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* The longest varint a length can take (64 bits, 7 per byte); C only. */
#define TB_VARINT_MAX_BYTES 10

/* cffi:begin */
/* How a frame's header is laid out (tb_frame_format.prefix). */
#define TB_FRAME_PREFIX_FIXED 0  /* fixed-width header with a u32be length field */
#define TB_FRAME_PREFIX_VARINT 1 /* varint payload length, no type field */

/* Why tb_frame_scan() stopped.  Non-negative codes are normal stops. */
#define TB_FRAME_NEED_MORE 0    /* the next frame is not complete in the buffer */
#define TB_FRAME_FULL 1         /* the output arrays are full; call again */
#define TB_FRAME_E_LENGTH (-101) /* a length field is smaller than what it must count */
#define TB_FRAME_E_TOO_LARGE (-102) /* a payload is larger than max_payload */
#define TB_FRAME_E_VARINT (-103) /* a varint is longer than 10 bytes or exceeds 64 bits */
#define TB_FRAME_E_TYPE (-104)   /* a type field is not below type_count */
#define TB_FRAME_E_FORMAT (-105) /* the format description itself is invalid */


typedef struct {
    int prefix;              /* TB_FRAME_PREFIX_* */
    uint32_t header_size;    /* FIXED: bytes in the header */
    uint32_t length_offset;  /* FIXED: offset of the u32be length field in the header */
    uint32_t length_bias;    /* FIXED: bytes the length counts that are not payload */
    int32_t type_offset;     /* FIXED: offset of the type field, or -1 when there is none */
    uint32_t type_width;     /* FIXED: 1 (u8) or 4 (u32be) */
    uint32_t type_count;     /* valid type values are 0 .. type_count - 1 */
    uint64_t max_payload;    /* largest payload accepted, in bytes */
} tb_frame_format;

typedef struct {
    size_t consumed;       /* offset just past the last complete, valid frame */
    size_t frames;         /* entries written to the output arrays */
    size_t error_offset;   /* on error: offset of the offending frame's header */
    uint64_t error_value;  /* on error: the length, or type, that was rejected */
    size_t error_end;      /* on TB_FRAME_E_TYPE: offset just past the whole bad frame */
    /* On TB_FRAME_NEED_MORE with the next frame's header complete but not its payload:
       the frame's total size, its header size and its type value; otherwise zeros. */
    uint64_t pending_size;
    size_t pending_header;
    uint32_t pending_type;
} tb_frame_scan_result;

/*
 * Scan buf[start:len] for complete frames, writing at most `capacity` entries:
 * types[i] (0 for formats without a type field), payload_start[i], payload_end[i]
 * (offsets into buf).  Returns a TB_FRAME_* code and fills *result.
 *
 * Length checks (E_LENGTH, E_TOO_LARGE, E_VARINT) fire as soon as the header is in the
 * buffer, before any of the payload is needed.  The type check (E_TYPE) fires once the
 * whole frame is buffered, so the caller can skip exactly that frame and stay aligned.
 * Frames before an error are reported as usual.
 */
int tb_frame_scan(const tb_frame_format *format, const unsigned char *buf, size_t len,
                  size_t start, uint32_t *types, size_t *payload_start, size_t *payload_end,
                  size_t capacity, tb_frame_scan_result *result);


/*
 * Write into out a format string for Python's struct module that unpacks, from
 * buf[start:], the payloads of the `count` frames a scan found: "=" then "<gap>x<n>s"
 * per frame.  One struct.unpack_from() call then makes every payload's bytes object,
 * instead of one slice per frame in Python.  Returns the length written, or 0 when
 * out_capacity (which must allow TB_FRAME_FORMAT_BYTES per frame, plus 2) is too small.
 */
#define TB_FRAME_FORMAT_BYTES 42
size_t tb_frame_struct_format(size_t start, const size_t *payload_start,
                              const size_t *payload_end, size_t count, char *out,
                              size_t out_capacity);
/* cffi:end */

#endif /* TB_FRAME_H */
