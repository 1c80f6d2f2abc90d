# Every module in the tree (the default).
set(ATELIER_MINIMAL OFF CACHE BOOL "")
