#include "attachments.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace tickets {

namespace {

bool startsWith(const std::string& s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }

// The type the bytes look like, or "" when unknown.
std::string sniff(const std::string& d) {
    if (startsWith(d, "\x89PNG\r\n\x1a\n")) return "image/png";
    if (startsWith(d, "\xFF\xD8\xFF")) return "image/jpeg";
    if (startsWith(d, "GIF87a") || startsWith(d, "GIF89a")) return "image/gif";
    if (d.size() >= 12 && startsWith(d, "RIFF") && d.compare(8, 4, "WEBP") == 0) return "image/webp";
    if (startsWith(d, "%PDF-")) return "application/pdf";
    auto head = d.substr(0, 1024);
    if (head.find('\0') == std::string::npos) {
        if (head.find("<svg") != std::string::npos) return "image/svg+xml";
        return "text/plain";
    }
    return "";
}

bool isTextual(const std::string& t) {
    return t == "text/plain" || t == "text/markdown" || t == "application/json" || t == "text/csv";
}

std::string extensionFor(const std::string& mime) {
    if (mime == "image/png") return ".png";
    if (mime == "image/jpeg") return ".jpg";
    if (mime == "image/gif") return ".gif";
    if (mime == "image/webp") return ".webp";
    if (mime == "image/svg+xml") return ".svg";
    if (mime == "application/pdf") return ".pdf";
    if (mime == "application/json") return ".json";
    if (mime == "text/markdown") return ".md";
    if (mime == "text/csv") return ".csv";
    return ".txt";
}

}  // namespace

const std::set<std::string>& imageTypes() {
    static const std::set<std::string> t{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"};
    return t;
}
const std::set<std::string>& taskTypes() {
    static const std::set<std::string> t{"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml",
                                         "application/pdf", "text/plain", "text/markdown", "application/json", "text/csv"};
    return t;
}

std::string checkedType(const Upload& up, const std::set<std::string>& allowed) {
    if (up.data.empty()) throw validation("file", "must not be empty");
    if (up.data.size() > kMaxAttachmentBytes) {
        throw DomainError(DomainError::Kind::Invalid, "FILE_TOO_LARGE", "File exceeds the 10 MB limit",
                          {{"file", "must be at most " + std::to_string(kMaxAttachmentBytes) + " bytes"}});
    }
    std::string declared = up.contentType == "image/jpg" ? "image/jpeg" : up.contentType;
    std::string sniffed = sniff(up.data);
    std::string type = declared.empty() || declared == "application/octet-stream" ? sniffed : declared;
    bool consistent = type == sniffed || (isTextual(type) && sniffed == "text/plain") ||
                      (type == "image/svg+xml" && sniffed == "image/svg+xml");
    if (!allowed.count(type) || !consistent) {
        std::string list;
        for (auto& t : allowed) list += (list.empty() ? "" : ", ") + t;
        throw DomainError(DomainError::Kind::Invalid, "UNSUPPORTED_FILE_TYPE",
                          "File type " + (type.empty() ? std::string("unknown") : type) + " is not allowed",
                          {{"file", "must be one of " + list + " (content must match the type)"}});
    }
    return type;
}

JsonObject attachmentJson(const Row& r) {
    auto o = atelier::makeObject();
    o->set("id", r.var("id"));
    o->set("comment_id", r.var("comment_id"));
    o->set("ticket_id", r.var("ticket_id"));
    o->set("filename", r.var("filename"));
    o->set("mime_type", r.var("mime_type"));
    o->set("size_bytes", r.var("size_bytes"));
    o->set("storage_path", r.var("storage_path"));
    o->set("uploaded_by_id", r.var("uploaded_by_id"));
    o->set("created_at", r.var("created_at"));
    return o;
}

Row Attachments::requireRow(int64_t id) const {
    auto r = s_.db.one("SELECT * FROM tickets_attachments WHERE id = ?", {id});
    if (!r) throw notFound("Attachment " + std::to_string(id) + " not found", "ATTACHMENT_NOT_FOUND");
    return *r;
}

std::string Attachments::absolutePath(const std::string& storagePath) const {
    return (fs::path(s_.moduleDir) / storagePath).string();
}

int64_t Attachments::store(AttachTarget target, const std::string& filename, const std::string& mimeType,
                           const std::string& data, const std::optional<std::string>& uploadedBy) const {
    auto now = nowIso();
    std::string rel = "attachments/" + now.substr(0, 4) + "/" + now.substr(5, 2) + "/" + atelier::newUuid() + extensionFor(mimeType);
    fs::path abs = fs::path(s_.moduleDir) / rel;
    std::error_code ec;
    fs::create_directories(abs.parent_path(), ec);
    fs::path tmp = abs;
    tmp += ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out) throw DomainError(DomainError::Kind::StorageFull, "STORAGE_FAILED", "The file could not be stored");
    }
    fs::rename(tmp, abs, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw DomainError(DomainError::Kind::StorageFull, "STORAGE_FAILED", "The file could not be stored");
    }
    try {
        return s_.db
            .one(
                "INSERT INTO tickets_attachments (ticket_id, comment_id, filename, mime_type, size_bytes, storage_path,"
                " uploaded_by_id, created_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                {target.ticketId ? Param(target.ticketId) : Param(nullptr),
                 target.commentId ? Param(target.commentId) : Param(nullptr), filename, mimeType,
                 static_cast<int64_t>(data.size()), rel, uploadedBy, now})
            ->integer("id");
    } catch (...) {
        fs::remove(abs, ec);
        throw;
    }
}

JsonObject Attachments::upload(AttachTarget target, const Upload& up) const {
    if (!up.uploadedById) throw validation("uploaded_by_id", "is required");
    if (!profileExists(s_.db, *up.uploadedById)) throw validation("uploaded_by_id", "is not a known profile");
    auto type = checkedType(up, imageTypes());
    return get(store(target, up.filename, type, up.data, up.uploadedById));
}

JsonArray Attachments::list(AttachTarget target, const std::optional<std::string>& uploadedBy, int64_t limit, int64_t offset) const {
    std::string sql = target.ticketId ? "SELECT * FROM tickets_attachments WHERE ticket_id = ?" : "SELECT * FROM tickets_attachments WHERE comment_id = ?";
    std::vector<Param> ps{target.ticketId ? target.ticketId : target.commentId};
    if (uploadedBy && !uploadedBy->empty()) sql += " AND uploaded_by_id = ?", ps.emplace_back(*uploadedBy);
    sql += " ORDER BY created_at, id LIMIT ? OFFSET ?";
    ps.emplace_back(std::clamp<int64_t>(limit, 1, 100));
    ps.emplace_back(std::max<int64_t>(offset, 0));
    auto arr = atelier::makeArray();
    for (auto& r : s_.db.query(sql, ps)) arr->add(attachmentJson(r));
    return arr;
}

JsonObject Attachments::get(int64_t id) const { return attachmentJson(requireRow(id)); }

FileData Attachments::read(int64_t id) const {
    auto r = requireRow(id);
    std::ifstream in(absolutePath(r.text("storage_path")), std::ios::binary);
    if (!in) throw notFound("The file of attachment " + std::to_string(id) + " is missing", "ATTACHMENT_FILE_MISSING");
    std::ostringstream ss;
    ss << in.rdbuf();
    return {r.text("filename"), r.text("mime_type"), ss.str(), absolutePath(r.text("storage_path")), r.text("created_at")};
}

void Attachments::remove(int64_t id) const {
    auto r = requireRow(id);
    s_.db.exec("DELETE FROM tickets_attachments WHERE id = ?", {id});
    std::error_code ec;
    fs::remove(absolutePath(r.text("storage_path")), ec);
}

}  // namespace tickets
