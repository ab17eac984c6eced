#!/bin/bash
# Build the wheel's native libraries from the tarballs pinned in vendor/sources.txt.
# scripts/build-vendor runs this inside the Debian bullseye root (glibc 2.31, gcc 10,
# cmake 3.18), with the tarballs at /sources (read-only), this folder at /recipe and an
# empty /work; everything is installed under /opt/tightbind.  Only what tightbind loads
# is built: shared libraries, headers and pkg-config files; no programs, tests or docs.
# A cross build (scripts/build-vendor TAG) runs the same steps with zig's compilers in
# CC/CXX/AR/RANLIB, CMAKE_TOOLCHAIN_FILE=/recipe/zig-toolchain.cmake, and three more
# settings: TIGHTBIND_OPENSSL_TARGET (OpenSSL's name for the machine),
# TIGHTBIND_EXTRA_LDFLAGS (-s: the linker strips) and TIGHTBIND_STRIP (true: the host's
# strip reads no foreign machine's files).  Unset, the bullseye build is as it was.
set -euo pipefail
PREFIX=/opt/tightbind
JOBS=${JOBS:-2}
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig PKG_CONFIG_LIBDIR=$PREFIX/lib/pkgconfig
export CFLAGS="-O2 -g0 -fPIC" CXXFLAGS="-O2 -g0 -fPIC"
export LDFLAGS="-L$PREFIX/lib -Wl,-rpath,\$ORIGIN ${TIGHTBIND_EXTRA_LDFLAGS:-}"
export CPPFLAGS="-I$PREFIX/include"

# The tarball for one component, named in /recipe/sources.txt's third column.
tarball() { awk -v n="$1" '$1 == n { print "/sources/" $3 }' /recipe/sources.txt; }

step() { printf '[vendor %s] %s\n' "$(date +%T)" "$*"; }

unpack() {  # name -> prints the unpacked folder
    local dir=/work/$1
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xf "$(tarball "$1")" -C "$dir" --strip-components=1
    echo "$dir"
}

licence() {  # name file...: keep the licence texts that travel into the wheel
    local name=$1; shift
    mkdir -p "$PREFIX/share/licenses/$name"
    cp "$@" "$PREFIX/share/licenses/$name/"
}

cmake_build() {  # source folder, then cmake options
    local src=$1; shift
    cmake -S "$src" -B "$src/_build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX=$PREFIX -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_PREFIX_PATH=$PREFIX -DBUILD_SHARED_LIBS=ON \
        -DCMAKE_INSTALL_RPATH='$ORIGIN' "$@" >"$src/_cmake.log"
    cmake --build "$src/_build" -j "$JOBS" >"$src/_build.log"
    cmake --install "$src/_build" >"$src/_install.log"
}

step zlib
src=$(unpack zlib)
(cd "$src" && ./configure --prefix=$PREFIX --libdir=$PREFIX/lib --shared >/dev/null \
    && make -j "$JOBS" >/dev/null && make install >/dev/null)
licence zlib "$src/LICENSE"

step libpng
src=$(unpack libpng)
cmake_build "$src" -DPNG_STATIC=OFF -DPNG_TESTS=OFF -DPNG_TOOLS=OFF -DPNG_FRAMEWORK=OFF
licence libpng "$src/LICENSE"

step libjpeg-turbo
src=$(unpack libjpeg)
# libjpeg-turbo 2.1 resolves a relative CMAKE_INSTALL_LIBDIR against the build folder.
cmake_build "$src" -DENABLE_STATIC=OFF -DWITH_TURBOJPEG=OFF -DWITH_JAVA=OFF \
    -DCMAKE_INSTALL_LIBDIR=$PREFIX/lib
# Without NASM (x86-64) or a compiler it accepts, libjpeg-turbo only warns and builds its
# slow C code: fail instead.
grep -q "WITH_SIMD = 1" "$src/_cmake.log" \
    || { echo "libjpeg-turbo: built without SIMD" >&2; exit 1; }
licence libjpeg-turbo "$src/LICENSE.md" "$src/README.ijg"

step giflib
src=$(unpack giflib)
# Only the library: giflib's Makefile would also build the utilities and documentation.
# It links libgif.so with the soname libgif.so.7; install-lib would add the names.
make -C "$src" -j "$JOBS" libgif.so >/dev/null
cp "$src/gif_lib.h" "$PREFIX/include/"
cp "$src/libgif.so" "$PREFIX/lib/libgif.so.7.2.0"
ln -sf libgif.so.7.2.0 "$PREFIX/lib/libgif.so.7"
ln -sf libgif.so.7 "$PREFIX/lib/libgif.so"
licence giflib "$src/COPYING"

step libwebp
src=$(unpack libwebp)
cmake_build "$src" -DWEBP_BUILD_ANIM_UTILS=OFF -DWEBP_BUILD_CWEBP=OFF -DWEBP_BUILD_DWEBP=OFF \
    -DWEBP_BUILD_GIF2WEBP=OFF -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF \
    -DWEBP_BUILD_WEBPINFO=OFF -DWEBP_BUILD_WEBPMUX=OFF -DWEBP_BUILD_EXTRAS=OFF \
    -DWEBP_BUILD_LIBWEBPMUX=ON
licence libwebp "$src/COPYING" "$src/PATENTS"

step libtiff
src=$(unpack libtiff)
cmake_build "$src" -Dtiff-tools=OFF -Dtiff-tests=OFF -Dtiff-contrib=OFF -Dtiff-docs=OFF \
    -Dcxx=OFF -Djpeg=ON -Dzlib=ON -Dpixarlog=ON -Djbig=OFF -Dlerc=OFF -Dlzma=OFF \
    -Dzstd=OFF -Dwebp=OFF -Dlibdeflate=OFF -Dold-jpeg=OFF -Djpeg12=OFF
grep -Eq "JPEG support: .*Support:TRUE" "$src/_cmake.log" \
    || { echo "libtiff: built without JPEG support" >&2; exit 1; }
licence libtiff "$src/LICENSE.md"

step leptonica
src=$(unpack leptonica)
# Leptonica asks for C17; cmake 3.18 knows the dialect but not gcc 10's flag for it.
cmake_build "$src" -DCMAKE_C17_EXTENSION_COMPILE_OPTION=-std=gnu17 -DSW_BUILD=OFF -DBUILD_PROG=OFF -DENABLE_ZLIB=ON -DENABLE_PNG=ON \
    -DENABLE_JPEG=ON -DENABLE_TIFF=ON -DENABLE_GIF=ON -DENABLE_WEBP=ON -DENABLE_OPENJPEG=OFF
# Fail here, not in a user's hands, if cmake quietly left an image library out.
needed=$(readelf -d "$src"/_build/src/libleptonica.so* | grep NEEDED)
for lib in libz libpng16 libjpeg libtiff libgif libwebp; do
    grep -q "\[$lib\." <<<"$needed" || { echo "leptonica: not linked with $lib" >&2; exit 1; }
done
# Leptonica's cmake names its pkg-config file after the build type; Tesseract's
# tesseract.pc and tightbind's build ask for "lept".
cp "$PREFIX/lib/pkgconfig/lept_Release.pc" "$PREFIX/lib/pkgconfig/lept.pc"
licence leptonica "$src/leptonica-license.txt"

step "tesseract (about 3 minutes on 2 cores)"
src=$(unpack tesseract)
# OpenMP off (a page is one thread, callers choose parallelism), no libcurl or libarchive,
# no training tools (they need ICU, pango, cairo).  The AVX2/AVX512/FMA/SSE4.1 kernels are
# built and picked at run time by the CPU; ENABLE_NATIVE stays off so the build runs on
# any x86-64.  TESSDATA_PREFIX is where Tesseract looks for models when neither the caller
# nor the environment says (without it, the current folder): Debian's and Ubuntu's
# folder, so languages installed with apt-get (tesseract-ocr-deu, ...) are found.
cmake_build "$src" -DTESSDATA_PREFIX=/usr/share/tesseract-ocr/5 -DOPENMP_BUILD=OFF -DDISABLE_ARCHIVE=ON -DDISABLE_CURL=ON \
    -DBUILD_TRAINING_TOOLS=OFF -DGRAPHICS_DISABLED=ON -DBUILD_TESTS=OFF -DENABLE_NATIVE=OFF \
    -DENABLE_LTO=ON -DINSTALL_CONFIGS=OFF -DLeptonica_DIR=$PREFIX/lib/cmake/leptonica
# Tesseract turns LTO off itself where it builds NEON kernels (aarch64); elsewhere an
# LTO the compiler could not do would be a quiet loss.
if ! grep -q "HAVE_NEON: TRUE" "$src/_cmake.log"; then
    grep -q "IPO / LTO supported" "$src/_cmake.log" \
        || { echo "tesseract: built without LTO" >&2; exit 1; }
fi
licence tesseract "$src/LICENSE"

step "openssl (about 3 minutes)"
src=$(unpack openssl)
# no-module: the legacy provider (RC2, DES, ...) is compiled into libcrypto, so legacy
# PKCS#12 files need no ossl-modules folder.  Certificates and openssl.cnf are looked up
# under /etc/ssl as on Debian, Ubuntu, Alpine and Arch (SSL_CERT_FILE/SSL_CERT_DIR
# override).  No programs, tests, docs or engines.
(cd "$src" && ./Configure ${TIGHTBIND_OPENSSL_TARGET:-linux-x86_64} --prefix=$PREFIX --libdir=lib --openssldir=/etc/ssl \
    shared no-module enable-legacy no-tests no-docs no-apps no-engine no-comp no-ssl3 \
    >"$src/_configure.log" \
    && make -j "$JOBS" build_libs >"$src/_build.log" 2>&1 \
    && make install_dev >"$src/_install.log" 2>&1)
licence openssl "$src/LICENSE.txt"

step "strip, drop static libraries and tools"
rm -rf "$PREFIX/bin" "$PREFIX/share/man" "$PREFIX/share/doc" "$PREFIX/ssl"
find "$PREFIX/lib" -name '*.a' -delete
find "$PREFIX/lib" -name '*.la' -delete
find "$PREFIX/lib" -name '*.so*' -type f -exec ${TIGHTBIND_STRIP:-strip --strip-unneeded} {} +
step done
