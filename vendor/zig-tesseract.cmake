# Read at the end of Tesseract's project() in a cross build (zig-toolchain.cmake): link
# libtesseract with a version script that keeps zig's static libc++abi's operator new and
# delete (every form: _Znw, _Zna, _Zdl, _Zda) inside it.  Everything else keeps its
# default visibility, as in the bullseye build.
set(TIGHTBIND_HIDE_MAP ${CMAKE_BINARY_DIR}/hide-operator-new.map)
file(WRITE ${TIGHTBIND_HIDE_MAP} "{\n  local:\n    _Znw*; _Zna*; _Zdl*; _Zda*;\n};\n")
add_link_options("LINKER:--version-script=${TIGHTBIND_HIDE_MAP}")
