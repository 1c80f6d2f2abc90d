// Event log, subscriptions, SSE stream, activity feed, operations log and the two WebSocket
// protocols (Kombuse /ws, boards product /api/ws): the host side of the event bus.
#pragma once

namespace atelier {
class Module;
}

namespace atelier::host {
class Host;
void registerEventRoutes(Module& module, Host& host);
void startEventRoutes(Module& module, Host& host);
void stopEventRoutes(Module& module, Host& host);
}  // namespace atelier::host
