/* Compiled on every build with -std=c99 -pedantic-errors -Werror: abi.h must stay plain C99.
 * Touches each macro so that a change which breaks one in C fails here. */
#include <atelier/abi.h>

int atelier_abi_c99_check(const atelier_host_v1* host, const atelier_migration* m);

int atelier_abi_c99_check(const atelier_host_v1* host, const atelier_migration* m) {
    int ok = ATELIER_HOST_HAS(host, db_engine) && ATELIER_HAS_FIELD(m, atelier_migration, engine);
    return ok ? ATELIER_ABI_MAJOR * 100 + ATELIER_ABI_MINOR : ATELIER_ERR_UNSUPPORTED;
}
