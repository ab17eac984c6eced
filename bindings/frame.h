/* cffi declarations for tightbind._frame (see csrc/frame.h for the contract). */

#define TB_FRAME_PREFIX_FIXED ...
#define TB_FRAME_PREFIX_VARINT ...
#define TB_FRAME_NEED_MORE ...
#define TB_FRAME_FULL ...
#define TB_FRAME_E_LENGTH ...
#define TB_FRAME_E_TOO_LARGE ...
#define TB_FRAME_E_VARINT ...
#define TB_FRAME_E_TYPE ...
#define TB_FRAME_E_FORMAT ...
#define TB_VARINT_MAX_BYTES ...
#define TB_FRAME_FORMAT_BYTES ...

typedef struct {
    int prefix;
    uint32_t header_size;
    uint32_t length_offset;
    uint32_t length_bias;
    int32_t type_offset;
    uint32_t type_width;
    uint32_t type_count;
    uint64_t max_payload;
} tb_frame_format;

typedef struct {
    size_t consumed;
    size_t frames;
    size_t error_offset;
    uint64_t error_value;
    size_t error_end;
    uint64_t pending_size;
    size_t pending_header;
    uint32_t pending_type;
} tb_frame_scan_result;

int tb_frame_scan(const tb_frame_format *format, const unsigned char *buf, size_t len,
                  size_t start, uint32_t *types, size_t *payload_start, size_t *payload_end,
                  size_t capacity, tb_frame_scan_result *result);


size_t tb_frame_struct_format(size_t start, const size_t *payload_start,
                              const size_t *payload_end, size_t count, char *out,
                              size_t out_capacity);
