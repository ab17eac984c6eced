# CMake toolchain for vendor/build.sh's cross builds (scripts/build-vendor TAG passes it
# as CMAKE_TOOLCHAIN_FILE): the compilers are scripts/cross-tools' zig wrappers (CC, CXX,
# AR, RANLIB in the environment), and nothing is looked up on the build machine: every
# library and header comes from the vendored prefix.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $ENV{TIGHTBIND_CROSS_PROCESSOR})
set(CMAKE_C_COMPILER $ENV{CC})
set(CMAKE_CXX_COMPILER $ENV{CXX})
set(CMAKE_AR $ENV{AR} CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB $ENV{RANLIB} CACHE FILEPATH "zig ranlib")
set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# Tesseract's CMake runs a program to ask whether Leptonica writes TIFF, which a cross
# build cannot run: the answer is yes (vendor/build.sh fails unless libleptonica links
# libtiff).
set(LEPT_TIFF_RESULT 0 CACHE STRING "exit code of Tesseract's Leptonica TIFF check")
# Link-time optimisation archives LLVM bitcode: without these CMake takes the build
# machine's llvm-ar, whose older LLVM cannot read zig's, and Tesseract's LTO check fails.
set(CMAKE_C_COMPILER_AR $ENV{AR} CACHE FILEPATH "zig ar")
set(CMAKE_CXX_COMPILER_AR $ENV{AR} CACHE FILEPATH "zig ar")
set(CMAKE_C_COMPILER_RANLIB $ENV{RANLIB} CACHE FILEPATH "zig ranlib")
set(CMAKE_CXX_COMPILER_RANLIB $ENV{RANLIB} CACHE FILEPATH "zig ranlib")
# zig links its own libc++ and libc++abi into each C++ library, and libc++abi gives the
# replaceable operator new and delete default visibility, so libtesseract would export
# them and another library's allocations could bind to its copies.  Tesseract has no
# version script of its own (libpng, libtiff and zlib have, and lld drops theirs when
# given a second), so it alone gets one hiding them: zig-tesseract.cmake, read at the
# end of Tesseract's project().
set(CMAKE_PROJECT_tesseract_INCLUDE ${CMAKE_CURRENT_LIST_DIR}/zig-tesseract.cmake)
