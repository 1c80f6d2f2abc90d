// Drives Atelier's MCP server with the official MCP TypeScript SDK, over Streamable HTTP or
// through `atelier mcp` (stdio). Usage: node sdk_client.mjs '<json fixture>'. Exits non-zero
// on the first failed check; prints "N passed, 0 failed" otherwise.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { EmptyResultSchema, McpError } from "@modelcontextprotocol/sdk/types.js";

const fx = JSON.parse(process.argv[2]);
let passed = 0;
const check = (cond, what) => {
  assert.ok(cond, what);
  passed++;
};

const transport =
  fx.mode === "stdio"
    ? new StdioClientTransport({ command: fx.command, args: fx.args, stderr: "inherit" })
    : new StreamableHTTPClientTransport(new URL(fx.url));
const client = new Client({ name: "atelier-sdk-test", version: "1.0.0" });
await client.connect(transport);
check(client.getServerVersion()?.name === "atelier", "server name");
check(client.getServerCapabilities()?.tools, "tools capability");
if (fx.mode !== "stdio") check(typeof transport.sessionId === "string" && transport.sessionId.length > 0, "session id issued");

const { tools } = await client.listTools();
const names = new Set(tools.map((t) => t.name));
for (const n of fx.expectTools) check(names.has(n), `tool ${n} listed`);
for (const t of tools) check(t.inputSchema?.type === "object", `${t.name} has an object schema`);

const text = (r) => r.content.map((c) => c.text).join("");
const ok = async (name, args) => {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${text(r)}`);
  passed++;
  return JSON.parse(text(r));
};
const refused = async (name, args, pattern) => {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} should have been refused: ${text(r)}`);
  assert.match(text(r), pattern);
  passed++;
};

const P = fx.projectId;
const N = fx.ticketNumber;
// ---- reads
const projects = await ok("list_projects", {});
check(JSON.stringify(projects).includes(P), "list_projects sees the project");
const listed = await ok("list_tickets", { project_id: P, limit: 5 });
check(JSON.stringify(listed).includes(fx.ticketTitle), "list_tickets sees the ticket");
const found = await ok("search_tickets", { query: fx.searchWord, project_id: P });
check(JSON.stringify(found).includes(fx.ticketTitle), "search_tickets finds the ticket");
const ticket = await ok("get_ticket", { project_id: P, ticket_number: N });
check(ticket.ticket.title === fx.ticketTitle, "get_ticket title");
check(Array.isArray(ticket.comments), "get_ticket comments");
check(Buffer.byteLength(JSON.stringify(ticket)) <= 25000, "get_ticket within 25,000 bytes");
const big = await ok("get_ticket", { project_id: P, ticket_number: fx.bigTicketNumber, config: { force_full: true } });
check(Buffer.byteLength(JSON.stringify(big)) <= 25000 && Array.isArray(big.pruned), "a big ticket is pruned under the cap");
const comment = await ok("get_ticket_comment", { comment_id: fx.commentId });
check(comment.id === fx.commentId, "get_ticket_comment");
await ok("list_labels", { project_id: P });
const tables = await ok("list_tables", {});
check(tables.tables.some((t) => t.startsWith("tickets_")), "list_tables");
const described = await ok("describe_table", { table_name: "mcp_tokens" });
check(described.columns.some((c) => c.name === "token_hash"), "describe_table");
const q = await ok("query_db", { sql: "SELECT ticket_number, title FROM tickets_items WHERE project_id = ? ORDER BY ticket_number", params: [fx.projectUuid] });
check(q.rows.length >= 1, "query_db rows");
const capped = await ok("query_db", { sql: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) SELECT x FROM n" });
check(capped.rows.length === 100 && capped.truncated === true, "query_db caps at 100 rows by default");
const capped500 = await ok("query_db", { sql: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) SELECT x FROM n", limit: 500 });
check(capped500.rows.length === 500, "query_db at most 500 rows");
await refused("query_db", { sql: "DELETE FROM tickets_items" }, /read-only/);
await refused("query_db", { sql: "SELECT 1; DELETE FROM tickets_items" }, /one statement/);
await refused("query_db", { sql: "SELECT 1", limit: 501 }, /at most 500/);
const endpoints = await ok("list_api_endpoints", { method: "GET" });
check(endpoints.endpoints.some((e) => e.path === "/api/mcp-servers"), "list_api_endpoints");
const api = await ok("call_api", { path: "/api/projects/" + P });
check(api.status === 200, "call_api GET");
await refused("call_api", { path: "/api/../etc/passwd" }, /must start with \/api\//);
const agents = await ok("list_agents", {});
check(JSON.stringify(agents).includes(fx.limitedAgentId), "list_agents");
await ok("list_worktrees", {});
await ok("get_activity", { limit: 5 });
const events = await ok("get_run_events", { run_id: fx.runId });
check(events !== null, "get_run_events");

// ---- writes: anonymous (allowed by default), an agent with permission, an agent without
const created = await ok("create_ticket", { project_id: P, title: "Made over MCP " + fx.mode, body: "from the SDK" });
check(created.triggers_enabled === false || created.triggers_enabled === 0, "MCP tickets default to triggers off");
const num = created.ticket_number;
const added = await ok("add_comment", { project_id: P, ticket_number: num, body: "anonymous note" });
check(added.author_id === "anonymous-agent", "anonymous author");
await ok("update_comment", { comment_id: added.id, body: "edited note" });
const updated = await ok("update_ticket", { project_id: P, ticket_number: num, status: "in_progress", add_label_ids: [fx.labelId] });
check(updated.status === "in_progress", "update_ticket status");
check(JSON.stringify(updated).includes(fx.labelName), "update_ticket label added");
const byAgent = await ok("add_comment", { project_id: P, ticket_number: num, body: "progress report", kombuse_session_id: fx.allowedSession });
check(byAgent.author_id === fx.allowedAgentId, "the session's agent is the author");
await refused("add_comment", { project_id: P, ticket_number: num, body: "nope", kombuse_session_id: fx.limitedSession }, /Permission denied/);
await refused("create_ticket", { project_id: P, title: "nope", kombuse_session_id: fx.limitedSession }, /Permission denied/);
await refused("create_ticket", { project_id: P, title: "nope", kombuse_session_id: "no-such-session" }, /Permission denied: unknown/);
const wt = await ok("create_worktree", { branch: "mcp-" + fx.mode, kombuse_session_id: fx.allowedSession });
check(JSON.stringify(wt).includes("mcp-" + fx.mode), "create_worktree");
const agent = await ok("create_agent", { name: "MCP made " + fx.mode, description: "d", system_prompt: "p" });
const upd = await ok("update_agent", { agent_id: agent.id, system_prompt: "changed" });
check(upd.system_prompt === "changed", "update_agent");
// Argument validation is a tool error the model can read; unknown tools are protocol errors.
await refused("get_ticket", { project_id: P }, /ticket_number is required/);
await refused("list_tickets", { limit: 1000 }, /at most 100/);
try {
  await client.callTool({ name: "no_such_tool", arguments: {} });
  assert.fail("unknown tool accepted");
} catch (e) {
  check(e instanceof McpError && e.code === -32602, "unknown tool → -32602");
}
try {
  await client.request({ method: "no/such/method", params: {} }, EmptyResultSchema);
  assert.fail("unknown method accepted");
} catch (e) {
  check(e instanceof McpError && e.code === -32601, "unknown method → -32601");
}
await client.ping();
passed++;

// ---- malformed JSON-RPC straight over HTTP
if (fx.mode !== "stdio") {
  const raw = async (body, headers = {}) => {
    const r = await fetch(fx.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body,
    });
    const t = await r.text();
    return { status: r.status, json: t ? JSON.parse(t) : null };
  };
  let r = await raw("{not json");
  check(r.status === 400 && r.json.error.code === -32700, "parse error");
  r = await raw(JSON.stringify({ jsonrpc: "1.0", id: 1, method: "ping" }));
  check(r.status === 400 && r.json.error.code === -32600, "invalid request");
  r = await raw(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "nope" }));
  check(r.status === 200 && r.json.error.code === -32601 && r.json.id === 7, "method not found");
  r = await raw(JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { arguments: {} } }));
  check(r.json.error.code === -32602, "invalid params");
  r = await raw(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
  check(r.status === 202 && r.json === null, "notification → 202");
  r = await raw(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }), { "mcp-session-id": "not-a-session" });
  check(r.status === 404, "unknown session → 404");
  r = await raw(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }), { "mcp-protocol-version": "1999-01-01" });
  check(r.status === 400, "unsupported protocol version → 400");
}

await client.close();
console.log(`${passed} passed, 0 failed`);
