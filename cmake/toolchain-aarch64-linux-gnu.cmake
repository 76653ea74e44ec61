# SPDX-License-Identifier: Apache-2.0
# Cross build for 64-bit ARM Linux with Debian's cross compiler and arm64
# development packages (scripts/install-deps.sh --arm64 installs them):
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake \
#         -DSK_BUILD_SERVICES=OFF -DSK_BUILD_TOOLS=OFF -DSK_BUILD_BENCH=OFF
#
# The tests run under qemu-user: ctest starts every test program through
# CMAKE_CROSSCOMPILING_EMULATOR.  protoc-c is the build machine's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SK_CROSS_TRIPLET aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${SK_CROSS_TRIPLET}-gcc)
set(CMAKE_AR ${SK_CROSS_TRIPLET}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${SK_CROSS_TRIPLET}-ranlib CACHE FILEPATH "")
set(CMAKE_LINKER ${SK_CROSS_TRIPLET}-ld CACHE FILEPATH "")
set(CMAKE_OBJCOPY ${SK_CROSS_TRIPLET}-objcopy CACHE FILEPATH "")
set(CMAKE_OBJDUMP ${SK_CROSS_TRIPLET}-objdump CACHE FILEPATH "")
set(CMAKE_NM ${SK_CROSS_TRIPLET}-nm CACHE FILEPATH "")

# Debian's multiarch layout: arm64 headers in /usr/include/aarch64-linux-gnu
# (and the shared /usr/include), libraries in /usr/lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE ${SK_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH /usr/${SK_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SK_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")

find_program(SK_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${SK_QEMU_AARCH64};-L;/usr/${SK_CROSS_TRIPLET}")
