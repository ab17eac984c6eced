/*
 * tightbind.h: the umbrella header of tightbind's C shim.
 *
 * Every exported symbol starts with tb_ (tb_frame_, tb_ocr_, tb_tls_ by area).
 * Functions return TB_OK (0) or a small positive status on success and a negative code
 * on failure; they never print and never call the Python C API.  The failure codes
 * every area shares are defined here; each area numbers its own codes in a range of its
 * own (framing -100s, OCR -200s, TLS -300s), so a code names one failure package-wide.
 *
 * Declarations between the "cffi:begin" and "cffi:end" comments, in this file and in
 * each area's header, are what build_ffi.py hands to cffi's cdef (after turning every
 * "#define NAME value" into "#define NAME ...", so the compiler checks the value): each
 * shim declaration is written once, here and in csrc/<area>.h.
 *
 * Each area's header is included only when that area's extension is being built
 * (build_ffi.py defines TB_WITH_<AREA>), so the framing module needs no Tesseract or
 * OpenSSL headers.
 */
#ifndef TIGHTBIND_H
#define TIGHTBIND_H

/* cffi:begin */
#define TB_OK 0
#define TB_E_NOMEM (-1) /* an allocation failed */
#define TB_E_ARG (-2)   /* an argument is invalid (NULL handle, bad size, unknown name) */
/* cffi:end */

#include "frame.h"

#ifdef TB_WITH_OCR
#include "ocr.h"
#endif

#ifdef TB_WITH_TLS
#include "tls.h"
#endif

#endif /* TIGHTBIND_H */
