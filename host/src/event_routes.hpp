// Event log, subscriptions, SSE stream, activity feed, operations log and the two WebSocket
// protocols (Kombuse /ws, boards product /api/ws): the host side of the event bus.
//
// Settings (host config `modules.config.host`, all optional):
//   sseKeepAliveMs (15000), retentionSweepMs (600000), activityMaxSizeMB (50),
//   opsLogMaxSizeMB (50), authTokens ([]: static bearer tokens the host's fallback
//   `auth.authenticate` handler accepts when authentication is on).
// Retention days come from `activity.retentionDays` and `opsLog.retentionDays`.
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
