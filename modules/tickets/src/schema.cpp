#include "schema.hpp"

namespace tickets {

std::vector<std::string> migrations() {
    return {
        // 1: profiles and settings; the local user exists from the first start.
        R"SQL(
CREATE TABLE tickets_profiles (
  id TEXT PRIMARY KEY, type TEXT NOT NULL CHECK (type IN ('user','agent')), name TEXT NOT NULL,
  slug TEXT, email TEXT, description TEXT, avatar_url TEXT, external_source TEXT, external_id TEXT,
  plugin_id TEXT, is_active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE UNIQUE INDEX tickets_profiles_email ON tickets_profiles(email) WHERE email IS NOT NULL;
CREATE INDEX tickets_profiles_type ON tickets_profiles(type, is_active);
CREATE TABLE tickets_profile_settings (
  id INTEGER PRIMARY KEY AUTOINCREMENT, profile_id TEXT NOT NULL, setting_key TEXT NOT NULL, setting_value TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (profile_id, setting_key));
INSERT INTO tickets_profiles (id, type, name, slug, description, is_active, created_at, updated_at)
  VALUES ('user-1', 'user', 'User', 'user', 'Local user', 1, strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'));
INSERT INTO tickets_profiles (id, type, name, slug, description, is_active, created_at, updated_at)
  VALUES ('anonymous-agent', 'agent', 'Anonymous Agent', 'anonymous-agent', 'Author of writes without an agent session', 1,
          strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now'));
)SQL",
        // 2: tickets, the per-project number counter, full-text index.
        R"SQL(
CREATE TABLE tickets_counters (project_id TEXT PRIMARY KEY, next_number INTEGER NOT NULL);
CREATE TABLE tickets_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL, ticket_number INTEGER NOT NULL,
  author_id TEXT NOT NULL, assignee_id TEXT, claimed_by_id TEXT, title TEXT NOT NULL, body TEXT,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','in_progress','blocked','closed')),
  priority INTEGER CHECK (priority IS NULL OR priority BETWEEN 0 AND 4),
  claimed_at TEXT, claim_expires_at TEXT, milestone_id INTEGER,
  external_source TEXT, external_id TEXT, external_url TEXT, synced_at TEXT,
  opened_at TEXT, closed_at TEXT, last_activity_at TEXT NOT NULL,
  triggers_enabled INTEGER NOT NULL DEFAULT 1, loop_protection_enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (project_id, ticket_number));
CREATE INDEX tickets_items_p_created ON tickets_items(project_id, created_at);
CREATE INDEX tickets_items_p_updated ON tickets_items(project_id, updated_at);
CREATE INDEX tickets_items_p_activity ON tickets_items(project_id, last_activity_at);
CREATE INDEX tickets_items_ps_created ON tickets_items(project_id, status, created_at);
CREATE INDEX tickets_items_ps_updated ON tickets_items(project_id, status, updated_at);
CREATE INDEX tickets_items_ps_activity ON tickets_items(project_id, status, last_activity_at);
CREATE INDEX tickets_items_ps_priority ON tickets_items(project_id, status, priority);
CREATE INDEX tickets_items_assignee ON tickets_items(assignee_id);
CREATE INDEX tickets_items_author ON tickets_items(author_id);
CREATE INDEX tickets_items_claimed ON tickets_items(claimed_by_id) WHERE claimed_by_id IS NOT NULL;
CREATE INDEX tickets_items_claim_exp ON tickets_items(project_id, claim_expires_at) WHERE claim_expires_at IS NOT NULL;
CREATE INDEX tickets_items_milestone ON tickets_items(milestone_id) WHERE milestone_id IS NOT NULL;
CREATE VIRTUAL TABLE tickets_fts USING fts5(title, body, content='tickets_items', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER tickets_items_fts_ai AFTER INSERT ON tickets_items BEGIN
  INSERT INTO tickets_fts(rowid, title, body) VALUES (new.id, new.title, coalesce(new.body, ''));
END;
CREATE TRIGGER tickets_items_fts_ad AFTER DELETE ON tickets_items BEGIN
  INSERT INTO tickets_fts(tickets_fts, rowid, title, body) VALUES ('delete', old.id, old.title, coalesce(old.body, ''));
END;
CREATE TRIGGER tickets_items_fts_au AFTER UPDATE OF title, body ON tickets_items BEGIN
  INSERT INTO tickets_fts(tickets_fts, rowid, title, body) VALUES ('delete', old.id, old.title, coalesce(old.body, ''));
  INSERT INTO tickets_fts(rowid, title, body) VALUES (new.id, new.title, coalesce(new.body, ''));
END;
CREATE TABLE tickets_views (ticket_id INTEGER NOT NULL, profile_id TEXT NOT NULL, last_viewed_at TEXT NOT NULL,
  PRIMARY KEY (ticket_id, profile_id));
CREATE TABLE tickets_activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id INTEGER, ticket_id INTEGER NOT NULL, project_id TEXT,
  event_type TEXT NOT NULL, comment_id INTEGER, actor_id TEXT, actor_type TEXT NOT NULL, kombuse_session_id TEXT,
  ticket_number INTEGER, payload TEXT NOT NULL, created_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX tickets_activity_ticket ON tickets_activity(ticket_id, seq);
)SQL",
        // 3: comments, mentions, full-text index over comment bodies.
        R"SQL(
CREATE TABLE tickets_comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL, author_id TEXT NOT NULL, parent_id INTEGER,
  body TEXT NOT NULL, is_edited INTEGER NOT NULL DEFAULT 0, kombuse_session_id TEXT,
  external_source TEXT, external_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX tickets_comments_ticket ON tickets_comments(ticket_id, seq);
CREATE INDEX tickets_comments_parent ON tickets_comments(parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE tickets_mentions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, comment_id INTEGER NOT NULL,
  mention_type TEXT NOT NULL CHECK (mention_type IN ('profile','ticket')),
  mentioned_profile_id TEXT, mentioned_ticket_id INTEGER, mention_text TEXT NOT NULL, created_at TEXT NOT NULL,
  CHECK ((mentioned_profile_id IS NULL) <> (mentioned_ticket_id IS NULL)));
CREATE INDEX tickets_mentions_comment ON tickets_mentions(comment_id);
CREATE VIRTUAL TABLE tickets_comments_fts USING fts5(body, content='tickets_comments', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER tickets_comments_fts_ai AFTER INSERT ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER tickets_comments_fts_ad AFTER DELETE ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(tickets_comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER tickets_comments_fts_au AFTER UPDATE OF body ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(tickets_comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
  INSERT INTO tickets_comments_fts(rowid, body) VALUES (new.id, new.body);
END;
)SQL",
        // 4: labels, milestones, attachments.
        R"SQL(
CREATE TABLE tickets_labels (
  id INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL,
  color TEXT NOT NULL DEFAULT '#808080', description TEXT, plugin_id TEXT, is_enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (project_id, name));
CREATE TABLE tickets_ticket_labels (ticket_id INTEGER NOT NULL, label_id INTEGER NOT NULL, added_by_id TEXT,
  created_at TEXT NOT NULL, PRIMARY KEY (ticket_id, label_id));
CREATE INDEX tickets_ticket_labels_label ON tickets_ticket_labels(label_id);
CREATE TABLE tickets_milestones (
  id INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL, title TEXT NOT NULL, description TEXT,
  due_date TEXT, status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','closed')),
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX tickets_milestones_project ON tickets_milestones(project_id, status);
CREATE TABLE tickets_attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER, comment_id INTEGER, filename TEXT NOT NULL,
  mime_type TEXT NOT NULL, size_bytes INTEGER NOT NULL, storage_path TEXT NOT NULL, uploaded_by_id TEXT,
  created_at TEXT NOT NULL, CHECK ((ticket_id IS NULL) <> (comment_id IS NULL)));
CREATE INDEX tickets_attachments_ticket ON tickets_attachments(ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX tickets_attachments_comment ON tickets_attachments(comment_id) WHERE comment_id IS NOT NULL;
)SQL",
        // 5: OpenKit notes per issue source and id, scoped to a project.
        R"SQL(
CREATE TABLE tickets_notes (
  project_id TEXT NOT NULL, source TEXT NOT NULL, issue_id TEXT NOT NULL, linked_worktree_id TEXT,
  personal TEXT, personal_updated_at TEXT, ai_context TEXT, ai_context_updated_at TEXT,
  todos TEXT NOT NULL DEFAULT '[]', git_policy TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (project_id, source, issue_id));
)SQL",
        // 6: both full-text indexes file each document under its project too (a `scope` token,
        // see scopeToken), so a search within a project visits and ranks only that project's
        // matches; a 3-character prefix index answers short prefixes (the porter stemmer turns
        // "runs*" into "run*") with one doclist instead of merging every term that starts so.
        // The indexes are external-content over views that supply the scope; a comment takes
        // its ticket's, so a ticket's comments leave the index before the ticket does (as
        // Tickets::remove deletes them). Rebuilt from the existing rows, then optimised into one
        // segment each so the first writes after the upgrade do not merge into the rebuilt ones.
        R"SQL(
DROP TRIGGER tickets_items_fts_ai;
DROP TRIGGER tickets_items_fts_ad;
DROP TRIGGER tickets_items_fts_au;
DROP TRIGGER tickets_comments_fts_ai;
DROP TRIGGER tickets_comments_fts_ad;
DROP TRIGGER tickets_comments_fts_au;
DROP TABLE tickets_fts;
DROP TABLE tickets_comments_fts;
CREATE VIEW tickets_fts_source AS
  SELECT id, title, coalesce(body, '') AS body, 'p' || hex(project_id) || '0' AS scope FROM tickets_items;
CREATE VIRTUAL TABLE tickets_fts USING fts5(title, body, scope, content='tickets_fts_source', content_rowid='id',
  tokenize='porter unicode61', prefix='3');
CREATE TRIGGER tickets_items_fts_ai AFTER INSERT ON tickets_items BEGIN
  INSERT INTO tickets_fts(rowid, title, body, scope)
    VALUES (new.id, new.title, coalesce(new.body, ''), 'p' || hex(new.project_id) || '0');
END;
CREATE TRIGGER tickets_items_fts_ad AFTER DELETE ON tickets_items BEGIN
  INSERT INTO tickets_fts(tickets_fts, rowid, title, body, scope)
    VALUES ('delete', old.id, old.title, coalesce(old.body, ''), 'p' || hex(old.project_id) || '0');
END;
CREATE TRIGGER tickets_items_fts_au AFTER UPDATE OF title, body, project_id ON tickets_items BEGIN
  INSERT INTO tickets_fts(tickets_fts, rowid, title, body, scope)
    VALUES ('delete', old.id, old.title, coalesce(old.body, ''), 'p' || hex(old.project_id) || '0');
  INSERT INTO tickets_fts(rowid, title, body, scope)
    VALUES (new.id, new.title, coalesce(new.body, ''), 'p' || hex(new.project_id) || '0');
END;
CREATE VIEW tickets_comments_fts_source AS
  SELECT c.id, c.body, 'p' || hex(t.project_id) || '0' AS scope FROM tickets_comments c JOIN tickets_items t ON t.id = c.ticket_id;
CREATE VIRTUAL TABLE tickets_comments_fts USING fts5(body, scope, content='tickets_comments_fts_source', content_rowid='id',
  tokenize='porter unicode61', prefix='3');
CREATE TRIGGER tickets_comments_fts_ai AFTER INSERT ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(rowid, body, scope)
    VALUES (new.id, new.body, (SELECT 'p' || hex(project_id) || '0' FROM tickets_items WHERE id = new.ticket_id));
END;
CREATE TRIGGER tickets_comments_fts_ad AFTER DELETE ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(tickets_comments_fts, rowid, body, scope)
    VALUES ('delete', old.id, old.body, (SELECT 'p' || hex(project_id) || '0' FROM tickets_items WHERE id = old.ticket_id));
END;
CREATE TRIGGER tickets_comments_fts_au AFTER UPDATE OF body, ticket_id ON tickets_comments BEGIN
  INSERT INTO tickets_comments_fts(tickets_comments_fts, rowid, body, scope)
    VALUES ('delete', old.id, old.body, (SELECT 'p' || hex(project_id) || '0' FROM tickets_items WHERE id = old.ticket_id));
  INSERT INTO tickets_comments_fts(rowid, body, scope)
    VALUES (new.id, new.body, (SELECT 'p' || hex(project_id) || '0' FROM tickets_items WHERE id = new.ticket_id));
END;
-- A ticket moving to another project takes its comments' index entries along.
CREATE TRIGGER tickets_items_scope_au AFTER UPDATE OF project_id ON tickets_items
  WHEN old.project_id IS NOT new.project_id BEGIN
  INSERT INTO tickets_comments_fts(tickets_comments_fts, rowid, body, scope)
    SELECT 'delete', id, body, 'p' || hex(old.project_id) || '0' FROM tickets_comments WHERE ticket_id = new.id;
  INSERT INTO tickets_comments_fts(rowid, body, scope)
    SELECT id, body, 'p' || hex(new.project_id) || '0' FROM tickets_comments WHERE ticket_id = new.id;
END;
INSERT INTO tickets_fts(tickets_fts) VALUES ('rebuild');
INSERT INTO tickets_comments_fts(tickets_comments_fts) VALUES ('rebuild');
INSERT INTO tickets_fts(tickets_fts) VALUES ('optimize');
INSERT INTO tickets_comments_fts(tickets_comments_fts) VALUES ('optimize');
)SQL",
        // 7: the activity log stops repeating what it can derive: an entry's project is its
        // ticket's (a #n reference only links tickets of one project), its time is its seq's
        // (Store::emit has always written isoFromSeq(seq)). About 60 of ~180 bytes per entry.
        R"SQL(
ALTER TABLE tickets_activity DROP COLUMN project_id;
ALTER TABLE tickets_activity DROP COLUMN created_at;
)SQL",
    };
}

}  // namespace tickets
