// The host's own routes (health, modules, OpenAPI), registered as the built-in module "host"
// and written against the public SDK only, like any module: what they report about the host
// comes through host_describe.
#pragma once

#include <atelier/abi.h>

namespace atelier::host {

const atelier_module_v1* coreModuleTable();

}  // namespace atelier::host
