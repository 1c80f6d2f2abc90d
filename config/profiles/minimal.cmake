# The host, the SDK and the plugins only: cmake -C config/profiles/minimal.cmake -S . -B build
set(ATELIER_MINIMAL ON CACHE BOOL "")
