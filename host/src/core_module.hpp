// The host's own routes (health, modules, OpenAPI, events, subscriptions, activity, logs,
// WebSockets), written against the same SDK as every module and registered as the built-in
// module "host".
#pragma once

#include <atelier/abi.h>

namespace atelier::host {

class Host;
const atelier_module_v1* coreModuleTable();
// The host the core module serves; set before modules start.
void setCoreHost(Host* host);
Host* coreHost();

}  // namespace atelier::host
