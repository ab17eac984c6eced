/*
 * tightbind.h: the umbrella header of tightbind's C shim.
 *
 * Every exported symbol starts with tb_.  Functions return 0 (TB_OK) on success and a
 * negative TB_E* code on failure; they never print and never call the Python C API.
 * Each area's header is included only when that area's extension is being built
 * (build_ffi.py defines TB_WITH_<AREA>), so building the framing module needs no
 * Tesseract or OpenSSL headers.
 */
#ifndef TIGHTBIND_H
#define TIGHTBIND_H

#define TB_OK 0

#include "frame.h"

#ifdef TB_WITH_OCR
#include "ocr.h"
#endif

#ifdef TB_WITH_TLS
#include "tls.h"
#endif

#endif /* TIGHTBIND_H */
